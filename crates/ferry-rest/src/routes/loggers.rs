//! `/admin/loggers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{ok, AppState, Params, Segments};
use crate::body::{Json, LevelBody};
use crate::entities::LoggerScope;
use crate::error::RestError;

/// The levels log4j accepts, upper-case.
const LEVELS: [&str; 8] = ["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"];

/// `GET /admin/loggers`.
pub(super) async fn list(State(s): State<AppState>) -> Result<Response, RestError> {
    Ok(ok(&s.call(s.herder.logger_levels()).await?))
}

/// `GET /admin/loggers/NAME`.
pub(super) async fn get(State(s): State<AppState>, path: Segments) -> Result<Response, RestError> {
    let name = path.name();
    match s.call(s.herder.logger_level(name)).await? {
        Some(level) => Ok(ok(&level)),
        None => Err(RestError::not_found(format!("Logger {name} not found."))),
    }
}

/// `PUT /admin/loggers/NAME[?scope=worker|cluster]` with `{"level": "..."}`.
pub(super) async fn set_level(
    State(s): State<AppState>,
    path: Segments,
    Params(params): Params,
    Json(LevelBody(level)): Json<LevelBody>,
) -> Result<Response, RestError> {
    let level = level
        .ok_or_else(|| RestError::bad_request("Desired 'level' parameter was not specified in request."))?;
    if !LEVELS.contains(&level.to_uppercase().as_str()) {
        return Err(RestError::not_found(format!("invalid log level '{level}'.")));
    }
    let scope = match params.iter().find(|(k, _)| k == "scope") {
        Some((_, v)) if v.eq_ignore_ascii_case("cluster") => LoggerScope::Cluster,
        Some((_, v)) if !v.eq_ignore_ascii_case("worker") => {
            tracing::warn!(scope = %v, "invalid logging scope; using 'worker'");
            LoggerScope::Worker
        }
        _ => LoggerScope::Worker,
    };
    let affected = s
        .call(s.herder.set_logger_level(path.name(), &level, scope))
        .await?;
    match scope {
        LoggerScope::Worker => Ok(ok(&affected)),
        LoggerScope::Cluster => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
