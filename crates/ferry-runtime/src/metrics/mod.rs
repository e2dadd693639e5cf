//! The worker's metrics under Kafka Connect's names: each task engine holds a
//! [`TaskMetrics`] and adds to it once per batch; `GET /metrics` reads every
//! registered source through [`ferry_core::metrics`].

pub mod task;
pub mod window;

pub use task::{ErrorTotals, TaskKind, TaskMetrics};
