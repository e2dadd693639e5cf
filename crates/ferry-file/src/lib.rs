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

use ferry_core::versions::KAFKA_CONNECT;
use ferry_core::{PluginDescriptor, PluginFactory};

pub use error::FileError;
pub use sink::{FileStreamSinkConnector, FileStreamSinkTask, SINK_CLASS};
pub use source::{
    FileStreamSourceConnector, FileStreamSourceTask, FILENAME_FIELD, POSITION_FIELD, SOURCE_CLASS,
};

/// Option naming the file to read or write (`file`), shared by both connectors.
pub const FILE_CONFIG: &str = "file";

/// The plugins of this crate: the FileStream source and sink connectors.
pub fn plugins() -> Vec<PluginDescriptor> {
    vec![
        PluginDescriptor {
            class: SOURCE_CLASS,
            version: KAFKA_CONNECT,
            factory: PluginFactory::Source(source::new_connector),
        },
        PluginDescriptor {
            class: SINK_CLASS,
            version: KAFKA_CONNECT,
            factory: PluginFactory::Sink(sink::new_connector),
        },
    ]
}

#[cfg(test)]
mod tests {
    use ferry_core::versions::KAFKA_CONNECT;
    use ferry_core::PluginFactory;

    #[test]
    fn both_connectors_report_the_emulated_kafka_connect_version() {
        for p in super::plugins() {
            assert_eq!(p.version, KAFKA_CONNECT, "{}", p.class);
            let instance_version = match p.factory {
                PluginFactory::Source(make) => make().version(),
                PluginFactory::Sink(make) => make().version(),
                _ => unreachable!("only connectors here"),
            };
            assert_eq!(instance_version, KAFKA_CONNECT, "{}", p.class);
        }
    }
}
