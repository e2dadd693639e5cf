//! Services for integration tests: a private PostgreSQL 15 cluster with
//! `wal_level=logical`, and (feature `kafka`) a Tansu broker, each on a free
//! port and removed when dropped. Tests never depend on a server someone left running.

pub mod net;
pub mod netns;
pub mod postgres;

#[cfg(feature = "kafka")]
pub mod kafka;
