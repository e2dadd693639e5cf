//! Cross-origin requests: `access.control.allow.origin` and `access.control.allow.methods`,
//! answered as Kafka Connect 4.3 answers them (Jetty 12's cross-origin handler, measured
//! against the real worker).
//!
//! Every response gets `Vary: Origin`. A request whose `Origin` matches one of the
//! allowed origins (each a regular expression matched against the whole origin; `*`
//! alone allows any) gets `Access-Control-Allow-Origin: <origin>` (no
//! `Access-Control-Allow-Credentials`). A preflight (`OPTIONS` with
//! `Access-Control-Request-Method`) from such an origin also gets
//! `Access-Control-Allow-Methods` (default `GET,POST,HEAD`),
//! `Access-Control-Allow-Headers: Content-Type` and `Access-Control-Max-Age: 60`, and then
//! goes on like any `OPTIONS` request (authentication included, as in Connect).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use regex::Regex;

use crate::server_config::{ServerConfigError, ACCESS_CONTROL_ALLOW_ORIGIN};

/// The CORS policy.
#[derive(Clone, Debug)]
pub struct Cors {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    any_origin: bool,
    origins: Vec<Regex>,
    methods_header: HeaderValue,
}

const DEFAULT_METHODS: &str = "GET,POST,HEAD";

impl Cors {
    /// From the two settings' values (`methods` empty: GET, POST and HEAD).
    pub fn new(origins: &str, methods: &str) -> Result<Cors, ServerConfigError> {
        let list = crate::server_config::list(origins);
        let mut patterns = Vec::new();
        for o in list.iter().filter(|o| o.as_str() != "*") {
            let re = Regex::new(&format!("^(?:{o})$")).map_err(|e| {
                ServerConfigError::invalid(
                    ACCESS_CONTROL_ALLOW_ORIGIN,
                    origins,
                    format!("{o} is not a pattern: {e}"),
                )
            })?;
            patterns.push(re);
        }
        let methods = match crate::server_config::list(methods) {
            m if m.is_empty() => DEFAULT_METHODS.to_owned(),
            m => m.join(","),
        };
        Ok(Cors {
            inner: Arc::new(Inner {
                any_origin: list.iter().any(|o| o == "*"),
                origins: patterns,
                methods_header: HeaderValue::from_str(&methods)
                    .unwrap_or(HeaderValue::from_static(DEFAULT_METHODS)),
            }),
        })
    }

    /// Whether an `Origin` value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        !origin.is_empty()
            && (self.inner.any_origin || self.inner.origins.iter().any(|re| re.is_match(origin)))
    }
}

/// Middleware applying the policy.
pub(crate) async fn apply(
    axum::extract::State(cors): axum::extract::State<Cors>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .filter(|o| o.to_str().is_ok_and(|o| cors.allows(o)))
        .cloned();
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                cors.inner.methods_header.clone(),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("Content-Type"),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("60"));
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_whole_match_patterns() {
        let cors = Cors::new("https://a\\.example, https://.*\\.b\\.example", "").unwrap();
        assert!(cors.allows("https://a.example"));
        assert!(cors.allows("https://x.b.example"));
        assert!(!cors.allows("https://b.example"));
        assert!(!cors.allows("https://a.example.evil"));
        assert!(!cors.allows(""));
        // As measured on Connect 4.3: a glob is not a wildcard.
        assert!(!Cors::new("https://*.example", "")
            .unwrap()
            .allows("https://a.example"));
        assert!(Cors::new("*", "").unwrap().allows("null"));
        assert!(Cors::new("(", "")
            .unwrap_err()
            .to_string()
            .contains("access.control.allow.origin"));
    }
}
