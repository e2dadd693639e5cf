//! Errors: what a [`Herder`](crate::Herder) reports and how the REST layer
//! turns it into Connect's `{"error_code": N, "message": "..."}` body.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::entities::ErrorMessage;

/// Why a herder operation failed. Each variant maps to the HTTP status Kafka
/// Connect answers with; the message is sent to the client as-is, so use
/// upstream's wording (see the constructors and the [`Herder`](crate::Herder) docs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HerderError {
    /// 404: unknown connector, task, plugin or logger (`Connector NAME not found`).
    #[error("{0}")]
    NotFound(String),
    /// 409: the connector already exists (`Connector NAME already exists`).
    #[error("{0}")]
    AlreadyExists(String),
    /// 400: the request is invalid (bad config, offsets of a running connector, ...).
    #[error("{0}")]
    BadRequest(String),
    /// 409: a rebalance or concurrent config change got in the way; the client may retry.
    #[error("{0}")]
    Conflict(String),
    /// 403: the operation is switched off (topic tracking disabled).
    #[error("{0}")]
    Forbidden(String),
    /// 500 `Request timed out`; `stage` describes what the worker was busy with.
    #[error("{}", timeout_message(.stage))]
    Timeout {
        /// What the worker was busy with, if known.
        stage: Option<String>,
    },
    /// 500: anything else.
    #[error("{0}")]
    Internal(String),
    /// 503: the worker cannot serve the request yet (still starting, shutting down).
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Any other status, e.g. one relayed from the leader when a request was forwarded.
    #[error("{message}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The error message.
        message: String,
    },
}

fn timeout_message(stage: &Option<String>) -> String {
    match stage {
        Some(stage) => format!("Request timed out. {stage}"),
        None => "Request timed out".to_owned(),
    }
}

impl HerderError {
    /// `Connector NAME not found` (404).
    pub fn connector_not_found(name: &str) -> Self {
        HerderError::NotFound(format!("Connector {name} not found"))
    }

    /// `Connector NAME already exists` (409).
    pub fn connector_exists(name: &str) -> Self {
        HerderError::AlreadyExists(format!("Connector {name} already exists"))
    }

    /// The 409 Connect answers while the config it acted on went stale.
    pub fn stale_config() -> Self {
        HerderError::Conflict(
            "Cannot complete request momentarily due to stale configuration \
             (typically caused by a concurrent config change)"
                .to_owned(),
        )
    }

    /// The 409 Connect answers when no leader is known during a rebalance.
    pub fn no_known_leader() -> Self {
        HerderError::Conflict(
            "Cannot complete request momentarily due to no known leader URL, \
             likely because a rebalance was underway."
                .to_owned(),
        )
    }

    /// `Request timed out` (500) without a stage.
    pub fn timeout() -> Self {
        HerderError::Timeout { stage: None }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        let code = match self {
            HerderError::NotFound(_) => 404,
            HerderError::AlreadyExists(_) | HerderError::Conflict(_) => 409,
            HerderError::BadRequest(_) => 400,
            HerderError::Forbidden(_) => 403,
            HerderError::Timeout { .. } | HerderError::Internal(_) => 500,
            HerderError::ServiceUnavailable(_) => 503,
            HerderError::Status { status, .. } => *status,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// An error response: a status and the message of Connect's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    /// HTTP status (also the body's `error_code`).
    pub status: StatusCode,
    /// The body's `message`.
    pub message: String,
}

impl RestError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        RestError {
            status,
            message: message.into(),
        }
    }

    /// 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with `message`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500 with `message`: Connect's answer to bodies it cannot deserialize.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The servlet container's own error for `status` (`HTTP 404 Not Found`,
    /// `HTTP 405 Method Not Allowed`, ...), as Jersey words it.
    pub fn plain(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        Self::new(status, format!("HTTP {} {reason}", status.as_u16()))
    }
}

impl From<HerderError> for RestError {
    fn from(e: HerderError) -> Self {
        RestError::new(e.status(), e.to_string())
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let body = ErrorMessage {
            error_code: self.status.as_u16(),
            message: self.message,
        };
        crate::routes::json_response(self.status, &body)
    }
}

/// `application/json`, the only media type Connect speaks.
pub(crate) const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_map_to_connect_statuses() {
        let cases = [
            (HerderError::connector_not_found("c"), 404, "Connector c not found"),
            (HerderError::connector_exists("c"), 409, "Connector c already exists"),
            (HerderError::BadRequest("b".into()), 400, "b"),
            (
                HerderError::stale_config(),
                409,
                "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)",
            ),
            (HerderError::Forbidden("Topic tracking is disabled.".into()), 403, "Topic tracking is disabled."),
            (HerderError::timeout(), 500, "Request timed out"),
            (
                HerderError::Timeout { stage: Some("The worker is currently reading to the end of the config topic".into()) },
                500,
                "Request timed out. The worker is currently reading to the end of the config topic",
            ),
            (HerderError::Internal("x".into()), 500, "x"),
            (HerderError::ServiceUnavailable("s".into()), 503, "s"),
            (HerderError::Status { status: 502, message: "m".into() }, 502, "m"),
        ];
        for (err, status, message) in cases {
            let rest = RestError::from(err);
            assert_eq!(rest.status.as_u16(), status);
            assert_eq!(rest.message, message);
        }
    }

    #[test]
    fn plain_errors_read_like_jersey() {
        assert_eq!(
            RestError::plain(StatusCode::NOT_FOUND).message,
            "HTTP 404 Not Found"
        );
        assert_eq!(
            RestError::plain(StatusCode::METHOD_NOT_ALLOWED).message,
            "HTTP 405 Method Not Allowed"
        );
    }
}
