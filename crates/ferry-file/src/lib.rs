//! Kafka Connect's FileStream connectors: a source that tails a file (or reads
//! standard input) line by line, and a sink that appends record values to a
//! file (or standard output).
//!
//! Both keep Connect's class names, options, task configurations and source
//! offsets, so existing connector configs and stored offsets carry over.

#![warn(missing_docs)]

mod error;
mod format;
pub mod sink;
pub mod source;

use ferry_core::{PluginDescriptor, PluginFactory};

pub use error::FileError;
pub use sink::{FileStreamSinkConnector, FileStreamSinkTask, SINK_CLASS};
pub use source::{
    FileStreamSourceConnector, FileStreamSourceTask, FILENAME_FIELD, POSITION_FIELD, SOURCE_CLASS,
};

/// Version reported for both connectors.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Option naming the file to read or write (`file`), shared by both connectors.
pub const FILE_CONFIG: &str = "file";

/// The plugins of this crate: the FileStream source and sink connectors.
pub fn plugins() -> Vec<PluginDescriptor> {
    vec![
        PluginDescriptor {
            class: SOURCE_CLASS,
            version: VERSION,
            factory: PluginFactory::Source(source::new_connector),
        },
        PluginDescriptor {
            class: SINK_CLASS,
            version: VERSION,
            factory: PluginFactory::Sink(sink::new_connector),
        },
    ]
}
