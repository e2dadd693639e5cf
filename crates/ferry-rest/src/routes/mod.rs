//! The route table and the router built from it.

mod connectors;
mod loggers;
mod metrics;
mod plugins;
mod root;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use serde::Serialize;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use crate::error::{HerderError, RestError, APPLICATION_JSON};
use crate::herder::Herder;

/// Tunables of the REST layer.
#[derive(Clone, Debug)]
pub struct RestOptions {
    /// Longest wait for a herder call before answering 500 `Request timed out` (90 s).
    pub request_timeout: Duration,
    /// Longest wait for the herder's health check (10 s).
    pub health_check_timeout: Duration,
}

impl Default for RestOptions {
    fn default() -> Self {
        RestOptions {
            request_timeout: Duration::from_secs(90),
            health_check_timeout: Duration::from_secs(10),
        }
    }
}

/// What every handler gets: the herder and the options.
#[derive(Clone)]
pub(crate) struct AppState {
    pub herder: Arc<dyn Herder>,
    pub options: Arc<RestOptions>,
}

impl AppState {
    /// Awaits a herder call within the request timeout.
    pub async fn call<T>(&self, fut: impl Future<Output = Result<T, HerderError>>) -> Result<T, RestError> {
        match tokio::time::timeout(self.options.request_timeout, fut).await {
            Ok(result) => result.map_err(RestError::from),
            Err(_) => Err(HerderError::timeout().into()),
        }
    }
}

type MakeRoute = fn() -> MethodRouter<AppState>;

/// Every route: HTTP method, path (OpenAPI/axum template syntax) and handler.
const TABLE: &[(&str, &str, MakeRoute)] = &[
    ("GET", "/", || get(root::server_info)),
    ("GET", "/health", || get(root::health)),
    ("GET", "/connectors", || get(connectors::list)),
    ("POST", "/connectors", || post(connectors::create)),
    ("GET", "/connectors/{connector}", || get(connectors::info)),
    ("DELETE", "/connectors/{connector}", || {
        delete(connectors::destroy)
    }),
    ("GET", "/connectors/{connector}/config", || {
        get(connectors::config)
    }),
    ("PUT", "/connectors/{connector}/config", || {
        put(connectors::put_config)
    }),
    ("PATCH", "/connectors/{connector}/config", || {
        patch(connectors::patch_config)
    }),
    ("GET", "/connectors/{connector}/status", || {
        get(connectors::status)
    }),
    ("POST", "/connectors/{connector}/restart", || {
        post(connectors::restart)
    }),
    ("PUT", "/connectors/{connector}/pause", || put(connectors::pause)),
    ("PUT", "/connectors/{connector}/resume", || {
        put(connectors::resume)
    }),
    ("PUT", "/connectors/{connector}/stop", || put(connectors::stop)),
    ("GET", "/connectors/{connector}/tasks", || get(connectors::tasks)),
    ("POST", "/connectors/{connector}/tasks", || {
        post(connectors::put_task_configs)
    }),
    ("PUT", "/connectors/{connector}/fence", || {
        put(connectors::fence_zombies)
    }),
    ("GET", "/connectors/{connector}/tasks/{task}/status", || {
        get(connectors::task_status)
    }),
    ("POST", "/connectors/{connector}/tasks/{task}/restart", || {
        post(connectors::restart_task)
    }),
    ("GET", "/connectors/{connector}/topics", || {
        get(connectors::topics)
    }),
    ("PUT", "/connectors/{connector}/topics/reset", || {
        put(connectors::reset_topics)
    }),
    ("GET", "/connectors/{connector}/offsets", || {
        get(connectors::offsets)
    }),
    ("PATCH", "/connectors/{connector}/offsets", || {
        patch(connectors::alter_offsets)
    }),
    ("DELETE", "/connectors/{connector}/offsets", || {
        delete(connectors::reset_offsets)
    }),
    ("GET", "/connector-plugins", || get(plugins::list)),
    ("GET", "/connector-plugins/{pluginName}/config", || {
        get(plugins::config)
    }),
    ("PUT", "/connector-plugins/{pluginName}/config/validate", || {
        put(plugins::validate)
    }),
    ("GET", "/admin/loggers", || get(loggers::list)),
    ("GET", "/admin/loggers/{logger}", || get(loggers::get)),
    ("PUT", "/admin/loggers/{logger}", || put(loggers::set_level)),
    ("GET", "/metrics", || get(metrics::scrape)),
];

/// The `(method, path)` pairs the router serves, paths in OpenAPI template syntax.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    TABLE.iter().map(|(m, p, _)| (*m, *p)).collect()
}

/// The Connect REST API over `herder`, with default [`RestOptions`].
///
/// Serve it with `axum::serve(tokio::net::TcpListener::bind("0.0.0.0:8083").await?, router(herder))`.
pub fn router(herder: Arc<dyn Herder>) -> Router {
    router_with(herder, RestOptions::default())
}

/// The Connect REST API over `herder` with explicit options.
pub fn router_with(herder: Arc<dyn Herder>, options: RestOptions) -> Router {
    let state = AppState {
        herder,
        options: Arc::new(options),
    };
    let mut inner = Router::new();
    for (_, path, make) in TABLE {
        inner = inner.route(path, make());
    }
    let inner = inner
        .fallback(|| async { RestError::plain(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async { RestError::plain(StatusCode::METHOD_NOT_ALLOWED) })
        .with_state(state);
    // Jersey matches `/connectors/` like `/connectors`: trim before routing.
    Router::new()
        .fallback_service(NormalizePathLayer::trim_trailing_slash().layer(inner))
        .layer(axum::middleware::from_fn(crate::forward_param::scope))
        .layer(axum::middleware::from_fn(access_log))
}

/// Logs one line per request, like Connect's request log.
async fn access_log(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let version = req.version();
    let resp = next.run(req).await;
    tracing::info!(
        target: "ferry_rest::access",
        method = %method,
        uri = %uri,
        status = resp.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "\"{method} {uri} {version:?}\" {}",
        resp.status().as_u16()
    );
    resp
}

/// A JSON response with `status`.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, APPLICATION_JSON);
            resp
        }
        Err(e) => {
            let msg = format!("Failed to serialize the response: {e}");
            let fallback = serde_json::json!({ "error_code": 500, "message": msg });
            let mut resp = (StatusCode::INTERNAL_SERVER_ERROR, fallback.to_string()).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, APPLICATION_JSON);
            resp
        }
    }
}

/// 200 with a JSON body.
pub(crate) fn ok<T: Serialize + ?Sized>(body: &T) -> Response {
    json_response(StatusCode::OK, body)
}

/// `Location` for a connector: absolute when the request named its host, as
/// Jersey resolves it against the base URI.
pub(crate) fn connector_location(host: Option<&HeaderValue>, name: &str) -> Option<HeaderValue> {
    let path = format!("/connectors/{}", encode_path(name));
    let value = match host.and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}{path}"),
        _ => path,
    };
    HeaderValue::from_str(&value).ok()
}

/// Percent-encodes what may not appear in a URI path; `/` and existing `%XX` stay.
fn encode_path(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, &b) in bytes.iter().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@/".contains(&b)
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jersey's reading of a `Boolean` query parameter: `true` in any case, else false.
pub(crate) fn query_bool(params: &[(String, String)], name: &str, default: bool) -> bool {
    match params.iter().find(|(k, _)| k == name) {
        Some((_, v)) => v.eq_ignore_ascii_case("true"),
        None => default,
    }
}

/// Path parameters, in template order; a parameter that cannot be decoded is a 404.
pub(crate) struct Segments(pub Vec<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Segments {
    type Rejection = RestError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(pairs) =
            axum::extract::Path::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(|_| RestError::plain(StatusCode::NOT_FOUND))?;
        Ok(Segments(pairs.into_iter().map(|(_, v)| v).collect()))
    }
}

impl Segments {
    /// The first path parameter (connector, plugin or logger name).
    pub fn name(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or("")
    }

    /// `{connector}/tasks/{task}` as a task id; a task that is not an int is a 404, as in Jersey.
    pub fn task(&self) -> Result<crate::entities::ConnectorTaskId, RestError> {
        let task = self
            .0
            .get(1)
            .and_then(|t| t.parse::<i32>().ok())
            .ok_or_else(|| RestError::plain(StatusCode::NOT_FOUND))?;
        Ok(crate::entities::ConnectorTaskId::new(self.name(), task))
    }
}

/// Query parameters in order, repeated ones included; undecodable queries read as empty.
pub(crate) struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(Params(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_like_uri_builder() {
        assert_eq!(encode_path("a b/c%zz%41"), "a%20b/c%25zz%41");
        assert_eq!(encode_path("ñ?#"), "%C3%B1%3F%23");
    }

    #[test]
    fn table_has_no_duplicates() {
        let mut seen = std::collections::HashSet::new();
        for r in routes() {
            assert!(seen.insert(r), "duplicate route {r:?}");
        }
    }
}
