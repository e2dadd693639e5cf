//! `GET /` and `GET /health`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{json_response, ok, AppState};
use crate::entities::WorkerStatus;
use crate::error::{HerderError, RestError};

/// `GET /`: worker version, commit and Kafka cluster id.
pub(super) async fn server_info(State(s): State<AppState>) -> Result<Response, RestError> {
    let info = s.call(s.herder.server_info()).await?;
    Ok(ok(&info))
}

/// `GET /health`: 200 healthy, 503 starting, 500 unhealthy.
pub(super) async fn health(State(s): State<AppState>) -> Response {
    let outcome = tokio::time::timeout(s.options.health_check_timeout, s.herder.health_check()).await;
    let stage = match outcome {
        Ok(Ok(())) => return ok(&WorkerStatus::healthy()),
        Ok(Err(HerderError::Timeout { stage })) => stage,
        Ok(Err(e)) => return RestError::from(e).into_response(),
        Err(_) => None,
    };
    if s.herder.is_ready() {
        let body = WorkerStatus::unhealthy(stage.as_deref());
        json_response(StatusCode::INTERNAL_SERVER_ERROR, &body)
    } else {
        let body = WorkerStatus::starting(stage.as_deref());
        json_response(StatusCode::SERVICE_UNAVAILABLE, &body)
    }
}
