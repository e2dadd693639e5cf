//! Forwarding a REST request to the worker that must serve it (the group leader for
//! config changes, the owner for a restart), as Kafka Connect's `HerderRequestHandler`
//! does: the first hop adds `forward=true`, the leader answers, and its status and
//! error body come back to the client unchanged.

use ferry_rest::{HerderError, HerderResult};
use reqwest::Method;
use serde_json::Value;

use super::group::{GroupShared, LeaderTarget};

/// Connect's 409 when the request reached a worker that cannot place it.
pub(crate) fn no_known_leader() -> HerderError {
    HerderError::Conflict(
        "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
            .into(),
    )
}

/// Connect's 409 when a request sent on with `forward=false` reached a worker that cannot
/// serve it either (the leadership or the owner moved meanwhile).
pub(crate) fn second_hop_refused() -> HerderError {
    HerderError::Conflict(
        "Cannot complete request because of a conflicting operation (e.g. worker rebalance)".into(),
    )
}

/// An HTTP client for worker-to-worker requests.
#[derive(Clone)]
pub struct Forwarder {
    client: reqwest::Client,
}

impl Default for Forwarder {
    fn default() -> Self {
        Forwarder {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(90))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// A forwarded request's answer: its status and JSON body (`None` when empty).
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, when there was one.
    pub body: Option<Value>,
}

impl Answer {
    /// The body as `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(self) -> HerderResult<T> {
        let body = self.body.unwrap_or(Value::Null);
        serde_json::from_value(body)
            .map_err(|e| HerderError::Internal(format!("Unexpected answer from the forwarded request: {e}")))
    }
}

impl Forwarder {
    /// Sends `method` to `base` + path `segments` (each percent-encoded) with `query`,
    /// adding `forward=true`; a non-2xx answer becomes the same status and message.
    pub async fn send(
        &self,
        base: &str,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> HerderResult<Answer> {
        let raw = body.map(|b| serde_json::to_vec(&b).expect("JSON values serialize"));
        self.send_raw(base, method, segments, query, raw, &[]).await
    }

    /// [`Forwarder::send`] with a JSON body already serialized (as it is signed) and extra
    /// headers (the request signature).
    pub async fn send_raw(
        &self,
        base: &str,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
        headers: &[(&str, String)],
    ) -> HerderResult<Answer> {
        // Connect allows two hops: a user's request (no `forward`) is sent on with
        // forward=true, a forwarded one with forward=false, and one with forward=false
        // that would need a third hop is refused.
        let incoming = ferry_rest::forward_param::forward_param();
        if incoming == Some(false) {
            return Err(second_hop_refused());
        }
        let mut url = reqwest::Url::parse(base)
            .map_err(|e| HerderError::Internal(format!("Bad worker URL {base}: {e}")))?;
        url.path_segments_mut()
            .map_err(|_| HerderError::Internal(format!("Bad worker URL {base}")))?
            .pop_if_empty()
            .extend(segments);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("forward", if incoming.is_none() { "true" } else { "false" });
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        tracing::debug!(%url, %method, "forwarding REST request");
        let mut req = self.client.request(method, url);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| HerderError::Internal(format!("IO Error trying to forward REST request: {e}")))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| HerderError::Internal(format!("IO Error trying to forward REST request: {e}")))?;
        let body: Option<Value> = if bytes.is_empty() {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        if (200..300).contains(&status) {
            return Ok(Answer { status, body });
        }
        let message = body
            .as_ref()
            .and_then(|b| b.get("message"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        Err(HerderError::Status { status, message })
    }
}

/// Sends an internal request (`method` on `path` with `body`) to the worker at `url`,
/// signed with the group's session key as Connect's `RestClient` does; a worker that
/// has no key yet, or whose key the other refuses (rotated), re-reads it once.
pub(crate) async fn send_signed(
    forwarder: &Forwarder,
    group: Option<&GroupShared>,
    url: &str,
    method: Method,
    path: &[&str],
    body: Vec<u8>,
) -> HerderResult<()> {
    if let Some(g) = group.filter(|g| g.signing.key().is_none()) {
        g.refresh_session_key().await;
    }
    for attempt in 0..2 {
        let headers = group
            .and_then(|g| g.signing.sign(&body))
            .map(Vec::from)
            .unwrap_or_default();
        let sent = forwarder
            .send_raw(url, method.clone(), path, &[], Some(body.clone()), &headers)
            .await;
        match (sent, group) {
            (
                Err(HerderError::Status {
                    status: 403 | 503, ..
                }),
                Some(g),
            ) if attempt == 0 => {
                g.refresh_session_key().await;
            }
            (r, _) => return r.map(|_| ()),
        }
    }
    Ok(())
}

/// Where a leader-only request goes: `None` to serve it here.
pub(crate) fn leader_url(group: Option<&GroupShared>) -> HerderResult<Option<String>> {
    match group.map(GroupShared::target) {
        None | Some(LeaderTarget::Local) => Ok(None),
        Some(LeaderTarget::Remote(url)) => Ok(Some(url)),
        Some(LeaderTarget::Unknown) if ferry_rest::forward_param::forward_param() == Some(false) => {
            Err(second_hop_refused())
        }
        Some(LeaderTarget::Unknown) => Err(no_known_leader()),
    }
}
