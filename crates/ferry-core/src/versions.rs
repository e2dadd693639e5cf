//! The versions Ferry emulates, stated once. REST answers (`GET /`, plugin lists, statuses),
//! status records and change events show these, so clients and tools that check versions
//! see the Kafka Connect and Debezium releases whose bytes Ferry reproduces (the
//! differential suite compares Ferry with exactly these releases).

/// The Kafka Connect release Ferry answers as: `GET /`, and Kafka's built-in plugins
/// (FileStream connectors, converters, transforms, predicates).
pub const KAFKA_CONNECT: &str = "4.3.0";

/// The Debezium release Ferry's Debezium plugins answer as: the PostgreSQL connector, its
/// events' `source.version`, and Debezium's transforms.
pub const DEBEZIUM: &str = "3.6.3.Final";

/// Ferry's own version (shown in `GET /`'s `commit` and in logs).
pub const FERRY: &str = env!("CARGO_PKG_VERSION");
