//! Ferry's REST API: a drop-in for Kafka Connect's (same paths, query
//! parameters, bodies, status codes and error bodies).
//!
//! The runtime implements [`Herder`]; [`router`] serves every endpoint over it:
//!
//! ```no_run
//! # async fn serve(herder: std::sync::Arc<dyn ferry_rest::Herder>) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8083").await?;
//! axum::serve(listener, ferry_rest::router(herder)).await
//! # }
//! ```
//!
//! `api-spec/openapi.yaml` at the workspace root documents the same routes as
//! [`routes`]; a test keeps the two in step.

#![warn(missing_docs)]

pub mod body;
pub mod entities;
pub mod error;
pub mod herder;
mod routes;

pub use error::{HerderError, RestError};
pub use herder::{Herder, HerderResult};
pub use routes::{router, router_with, routes, RestOptions};
