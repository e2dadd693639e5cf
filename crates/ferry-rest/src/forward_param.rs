//! The `forward` query parameter of every request, as Connect's `HerderRequestHandler`
//! reads it: absent on a user's request, `true` on the first hop between workers, `false`
//! on the second. The herder reads it through [`forward_param`] while it serves the
//! request, to send `forward=true` or `false` on, or to answer 409 instead of a third hop.

tokio::task_local! {
    static FORWARD: Option<bool>;
}

/// The `forward` parameter of the request being served (`None`: absent, or outside a
/// request).
pub fn forward_param() -> Option<bool> {
    FORWARD.try_with(|f| *f).ok().flatten()
}

/// Runs `fut` as if serving a request with `forward` (for tests and in-process callers).
pub async fn with_forward_param<F: std::future::Future>(forward: Option<bool>, fut: F) -> F::Output {
    FORWARD.scope(forward, fut).await
}

/// Jersey's `Boolean` query parameter: `true` in any case is true, any other value false.
fn parse(query: Option<&str>) -> Option<bool> {
    let query = query?;
    let raw = query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == "forward")?
        .1;
    Some(raw.eq_ignore_ascii_case("true"))
}

/// Middleware: serves the request with its `forward` parameter in scope.
pub(crate) async fn scope(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let forward = parse(req.uri().query());
    FORWARD.scope(forward, next.run(req)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameter_as_jersey_does() {
        assert_eq!(parse(None), None);
        assert_eq!(parse(Some("expand=status")), None);
        assert_eq!(parse(Some("forward=true")), Some(true));
        assert_eq!(parse(Some("a=1&forward=TRUE")), Some(true));
        assert_eq!(parse(Some("forward=false")), Some(false));
        assert_eq!(parse(Some("forward=yes")), Some(false));
    }

    #[tokio::test]
    async fn is_in_scope_only_while_serving() {
        assert_eq!(forward_param(), None);
        let seen = with_forward_param(Some(false), async { forward_param() }).await;
        assert_eq!(seen, Some(false));
    }
}
