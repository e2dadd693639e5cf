//! Cross-origin requests: `access.control.allow.origin` and `access.control.allow.methods`,
//! answered the way Jetty's `CrossOriginFilter` (which Connect installs) answers them.
//!
//! A request whose `Origin` is allowed gets `Access-Control-Allow-Origin` set to that
//! origin and `Access-Control-Allow-Credentials: true`; a preflight (`OPTIONS` with
//! `Access-Control-Request-Method`) also gets the allowed methods and headers and a
//! max age of 1800 s, and is answered 200 by Ferry itself. Other origins get no CORS
//! headers (the browser then refuses the response).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The CORS policy.
#[derive(Clone, Debug)]
pub struct Cors {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    any_origin: bool,
    /// Allowed origins; `*` inside one matches any run of characters.
    origins: Vec<String>,
    methods: Vec<String>,
    methods_header: HeaderValue,
}

/// Jetty's defaults.
const DEFAULT_METHODS: &str = "GET,POST,HEAD";
const ALLOWED_HEADERS: &str = "X-Requested-With,Content-Type,Accept,Origin";
const MAX_AGE: &str = "1800";

impl Cors {
    /// From the two settings' values (`methods` empty: Jetty's default GET,POST,HEAD).
    pub fn new(origins: &str, methods: &str) -> Cors {
        let origins = crate::server_config::list(origins);
        let methods = match crate::server_config::list(methods) {
            m if m.is_empty() => crate::server_config::list(DEFAULT_METHODS),
            m => m,
        };
        let joined = methods.join(",");
        Cors {
            inner: Arc::new(Inner {
                any_origin: origins.iter().any(|o| o == "*"),
                origins,
                methods_header: HeaderValue::from_str(&joined)
                    .unwrap_or(HeaderValue::from_static(DEFAULT_METHODS)),
                methods,
            }),
        }
    }

    /// Whether every origin in the `Origin` header (space-separated) is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let origins: Vec<&str> = origin.split_whitespace().collect();
        !origins.is_empty()
            && origins.iter().all(|o| {
                self.inner.any_origin
                    || self
                        .inner
                        .origins
                        .iter()
                        .any(|allowed| wildcard_match(allowed, o))
            })
    }

    fn allows_method(&self, method: &str) -> bool {
        self.inner
            .methods
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method.trim()))
    }
}

/// `pattern` with `*` as any run of characters, compared whole.
fn wildcard_match(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(first) || !s[first.len()..].ends_with(last) || s.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for p in &parts[1..parts.len() - 1] {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

fn set(headers: &mut HeaderMap, name: header::HeaderName, value: HeaderValue) {
    headers.insert(name, value);
}

/// Middleware applying the policy.
pub(crate) async fn apply(
    axum::extract::State(cors): axum::extract::State<Cors>,
    req: Request,
    next: Next,
) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let Some(origin) = origin.filter(|o| o.to_str().is_ok_and(|o| cors.allows(o))) else {
        return next.run(req).await;
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut resp = StatusCode::OK.into_response();
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if cors.allows_method(requested) {
            let h = resp.headers_mut();
            set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
            set(
                h,
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE),
            );
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_METHODS,
                cors.inner.methods_header.clone(),
            );
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOWED_HEADERS),
            );
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    set(
        h,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        HeaderValue::from_static("true"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_exactly_by_list_or_wildcard() {
        let cors = Cors::new("http://a.example, https://*.b.example", "");
        assert!(cors.allows("http://a.example"));
        assert!(cors.allows("https://x.b.example"));
        assert!(!cors.allows("https://b.example"));
        assert!(!cors.allows("http://a.example.evil"));
        assert!(!cors.allows(""));
        assert!(Cors::new("*", "").allows("null"));
        assert!(cors.allows_method("post"));
        assert!(!cors.allows_method("DELETE"));
        assert!(Cors::new("*", "GET,DELETE").allows_method("DELETE"));
    }
}
