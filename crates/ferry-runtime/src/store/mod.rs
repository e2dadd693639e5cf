//! The worker's persistent state: configs, offsets and statuses.

pub mod configs;
pub mod hash_order;
pub mod offset_file;
pub mod offsets;
pub mod status;

pub use configs::{ConfigState, ConfigStore, ConnectorEntry};
pub use offset_file::FileOffsetBackend;
pub use offsets::{ConnectorOffsetReader, OffsetBackend, OffsetStore};
pub use status::StatusStore;

/// A store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Kafka trouble.
    #[error(transparent)]
    Kafka(#[from] ferry_kafka::KafkaStoreError),
    /// Local file trouble (standalone offsets).
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}
