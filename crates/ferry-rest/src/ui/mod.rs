//! The status page at `/ui`: one HTML page with its script and style, compiled into the
//! binary (no build step, no CDN: it works offline). The page polls the REST API
//! (`/connectors?expand=status&expand=info`) and `/metrics`, shows connectors and tasks
//! with their states, traces and configs (secret-looking values as `[hidden]`), small
//! charts of events/s and lag over the last five minutes, and pause, resume, restart
//! and stop buttons.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// The page's routes (method, path), for the route list and authentication.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/ui"), ("GET", "/ui/app.js"), ("GET", "/ui/app.css")];

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// A router serving the page and its assets.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/ui",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/ui/app.js",
            get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }),
        )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_loads_only_its_own_assets() {
        for src in [super::INDEX_HTML, super::APP_JS, super::APP_CSS] {
            assert!(
                !src.contains("http://") || !src.contains("<script src=\"http"),
                "external asset"
            );
            assert!(!src.contains("https://"), "the page must work offline");
        }
        assert!(super::INDEX_HTML.contains("/ui/app.js"));
    }
}
