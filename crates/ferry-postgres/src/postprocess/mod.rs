//! Change event post processors (`post.processors`), run by the task's I/O shell on the
//! records the decoder built: Debezium's reselect post processor.

pub mod reselect;
