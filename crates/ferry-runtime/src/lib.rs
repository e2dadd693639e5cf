//! Ferry's worker runtime: worker configuration, the config/offset/status
//! stores, connector and task lifecycle (the herder), and the source and sink
//! task engines.

#![warn(missing_docs)]

pub mod config_providers;
pub mod connector_config;
pub mod engine;
pub mod herder;
pub mod metrics;
pub mod store;
pub mod worker_config;

pub use herder::late::{LateHerder, LateHerderHandle};
pub use herder::{shutdown_signal, LogControl, Loggers, StartError, Worker};
pub use worker_config::{Mode, WorkerConfig, WorkerConfigError};
