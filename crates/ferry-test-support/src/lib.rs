//! Services for integration tests: a private PostgreSQL 15 cluster with
//! `wal_level=logical`, (feature `kafka`) a Tansu broker, (feature `worker`) the `ferry`
//! binary, and (feature `realconnect`) the real Kafka Connect worker, each on a free port
//! and removed when dropped. Tests never depend on a server someone left running.

#![warn(missing_docs)]

pub mod net;
pub mod netns;
pub mod postgres;

#[cfg(feature = "kafka")]
pub mod kafka;

#[cfg(feature = "realconnect")]
pub mod realconnect;

#[cfg(feature = "worker")]
pub mod worker;
