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
//! [`server::RestServer`] serves it the way a Connect worker does, from the worker
//! properties ([`server_config::RestServerConfig`]): HTTP and HTTPS `listeners`,
//! `admin.listeners`, basic authentication, CORS and response headers.
//!
//! `api-spec/openapi.yaml` at the workspace root documents the same routes as
//! [`routes`]; a test keeps the two in step.

#![warn(missing_docs)]

pub mod auth;
pub mod body;
pub mod cors;
pub mod entities;
pub mod error;
pub mod forward_param;
pub mod headers;
pub mod herder;
mod routes;
pub mod server;
pub mod server_config;
pub mod signature;
pub mod tls;
pub mod ui;

use std::sync::Arc;

pub use error::{HerderError, RestError};
pub use herder::{Herder, HerderResult};
pub use routes::RestOptions;

/// The `(method, path)` pairs the router serves (the API and the `/ui` page), paths in
/// OpenAPI template syntax.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    let mut all = routes::routes();
    all.extend_from_slice(ui::ROUTES);
    all
}

/// The Connect REST API and the `/ui` page over `herder`, with default [`RestOptions`].
///
/// Serve it with `axum::serve(tokio::net::TcpListener::bind("0.0.0.0:8083").await?, router(herder))`.
pub fn router(herder: Arc<dyn Herder>) -> axum::Router {
    ui::router().fallback_service(routes::router(herder))
}

/// The Connect REST API and the `/ui` page over `herder` with explicit options.
pub fn router_with(herder: Arc<dyn Herder>, options: RestOptions) -> axum::Router {
    ui::router().fallback_service(routes::router_with(herder, options))
}
