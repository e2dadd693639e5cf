//! `/connectors` and everything under it.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::Value;

use super::{connector_location, json_response, ok, query_bool, AppState, Params, Segments};
use crate::body::{Json, OffsetsBody};
use crate::entities::{CreateConnectorRequest, NullableConfig, RestartRequest};
use crate::error::{HerderError, RestError};

type Result<T = Response> = std::result::Result<T, RestError>;

/// Puts `name` into `config["name"]`, or rejects a different name already there.
fn check_and_put_name(name: &str, config: &mut NullableConfig) -> Result<()> {
    match config.get("name") {
        Some(Some(included)) if included != name => Err(RestError::bad_request(format!(
            "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
        ))),
        Some(Some(_)) => Ok(()),
        _ => {
            config.insert("name".to_owned(), Some(name.to_owned()));
            Ok(())
        }
    }
}

fn created(headers: &HeaderMap, name: &str, body: &impl serde::Serialize) -> Response {
    let mut resp = json_response(StatusCode::CREATED, body);
    if let Some(loc) = connector_location(headers.get(header::HOST), name) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

/// `GET /connectors[?expand=status&expand=info]`.
pub(super) async fn list(State(s): State<AppState>, Params(params): Params) -> Result {
    let expansions: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.as_str())
        .collect();
    if !params.iter().any(|(k, _)| k == "expand") {
        let names = s.call(s.herder.connectors()).await?;
        return Ok(ok(&names));
    }
    let herder = &s.herder;
    let out = s
        .call(async {
            let mut out: IndexMap<String, IndexMap<&str, Value>> = IndexMap::new();
            for name in herder.connectors().await? {
                match expand(herder.as_ref(), &name, &expansions).await {
                    Ok(entry) => {
                        out.insert(name, entry);
                    }
                    Err(HerderError::NotFound(_)) => {
                        tracing::debug!(connector = %name, "connector vanished while expanding; skipped");
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(out)
        })
        .await?;
    Ok(ok(&out))
}

async fn expand<'a>(
    herder: &dyn crate::Herder,
    name: &str,
    expansions: &[&'a str],
) -> std::result::Result<IndexMap<&'a str, Value>, HerderError> {
    let mut entry = IndexMap::new();
    for &e in expansions {
        let value = match e {
            "status" => serde_json::to_value(herder.connector_status(name).await?),
            "info" => serde_json::to_value(herder.connector_info(name).await?),
            other => {
                tracing::info!(expansion = other, "ignoring unknown expansion type");
                continue;
            }
        };
        let value = value.map_err(|e| HerderError::Internal(e.to_string()))?;
        entry.insert(e, value);
    }
    Ok(entry)
}

/// `POST /connectors`: 201 with `Location`.
pub(super) async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<CreateConnectorRequest>,
) -> Result {
    let name = req.name.as_deref().unwrap_or("").trim().to_owned();
    let mut config = req.config.ok_or_else(|| {
        RestError::internal("The request body has no \"config\"; send {\"name\": ..., \"config\": {...}}")
    })?;
    check_and_put_name(&name, &mut config)?;
    let info = s
        .call(s.herder.create_connector(&name, config, req.initial_state))
        .await?;
    Ok(created(&headers, &name, &info))
}

/// `GET /connectors/NAME`.
pub(super) async fn info(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.connector_info(path.name())).await?))
}

/// `DELETE /connectors/NAME`: 204.
pub(super) async fn destroy(State(s): State<AppState>, path: Segments) -> Result {
    s.call(s.herder.delete_connector(path.name())).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/NAME/config`.
pub(super) async fn config(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.connector_config(path.name())).await?))
}

/// `PUT /connectors/NAME/config`: 201 + `Location` when created, else 200.
pub(super) async fn put_config(
    State(s): State<AppState>,
    path: Segments,
    headers: HeaderMap,
    Json(mut config): Json<NullableConfig>,
) -> Result {
    let name = path.name();
    check_and_put_name(name, &mut config)?;
    let outcome = s.call(s.herder.put_connector_config(name, config)).await?;
    if outcome.created {
        Ok(created(&headers, name, &outcome.result))
    } else {
        Ok(ok(&outcome.result))
    }
}

/// `PATCH /connectors/NAME/config`: 200.
pub(super) async fn patch_config(
    State(s): State<AppState>,
    path: Segments,
    Json(patch): Json<NullableConfig>,
) -> Result {
    Ok(ok(&s
        .call(s.herder.patch_connector_config(path.name(), patch))
        .await?))
}

/// `GET /connectors/NAME/status`.
pub(super) async fn status(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.connector_status(path.name())).await?))
}

/// `POST /connectors/NAME/restart`: 204 for the plain restart, else 202 with the status.
pub(super) async fn restart(State(s): State<AppState>, path: Segments, Params(params): Params) -> Result {
    let request = RestartRequest {
        connector: path.name().to_owned(),
        only_failed: query_bool(&params, "onlyFailed", false),
        include_tasks: query_bool(&params, "includeTasks", false),
    };
    if request.connector_only() {
        s.call(s.herder.restart_connector(&request.connector)).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let state = s.call(s.herder.restart_connector_and_tasks(&request)).await?;
    Ok(json_response(StatusCode::ACCEPTED, &state))
}

/// `PUT /connectors/NAME/pause`: 202.
pub(super) async fn pause(State(s): State<AppState>, path: Segments) -> Result {
    s.call(s.herder.pause_connector(path.name())).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/NAME/resume`: 202.
pub(super) async fn resume(State(s): State<AppState>, path: Segments) -> Result {
    s.call(s.herder.resume_connector(path.name())).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `PUT /connectors/NAME/stop`: 204.
pub(super) async fn stop(State(s): State<AppState>, path: Segments) -> Result {
    s.call(s.herder.stop_connector(path.name())).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/NAME/tasks`.
pub(super) async fn tasks(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.task_configs(path.name())).await?))
}

/// `POST /connectors/NAME/tasks` (internal, worker to leader): a JSON array of task
/// configs (string maps); 204.
pub(super) async fn put_task_configs(
    State(s): State<AppState>,
    path: Segments,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result {
    let configs: Vec<ferry_core::ConfigMap> = serde_json::from_slice(&body)
        .map_err(|e| RestError::bad_request(format!("Cannot deserialize task configurations: {e}")))?;
    let signature = crate::signature::RequestSignature::from_headers(&body, &headers)?;
    s.call(s.herder.put_task_configs(path.name(), configs, signature))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /connectors/NAME/fence` (internal, worker to leader): zombie fencing; 204.
pub(super) async fn fence_zombies(
    State(s): State<AppState>,
    path: Segments,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result {
    let signature = crate::signature::RequestSignature::from_headers(&body, &headers)?;
    s.call(s.herder.fence_zombies(path.name(), signature)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/NAME/tasks/N/status`.
pub(super) async fn task_status(State(s): State<AppState>, path: Segments) -> Result {
    let id = path.task()?;
    Ok(ok(&s.call(s.herder.task_status(&id)).await?))
}

/// `POST /connectors/NAME/tasks/N/restart`: 204.
pub(super) async fn restart_task(State(s): State<AppState>, path: Segments) -> Result {
    let id = path.task()?;
    s.call(s.herder.restart_task(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /connectors/NAME/topics`: `{NAME: {"topics": [...]}}`.
pub(super) async fn topics(State(s): State<AppState>, path: Segments) -> Result {
    let info = s.call(s.herder.connector_active_topics(path.name())).await?;
    let key = if info.connector.is_empty() {
        path.name().to_owned()
    } else {
        info.connector.clone()
    };
    let mut out = IndexMap::new();
    out.insert(key, info);
    Ok(ok(&out))
}

/// `PUT /connectors/NAME/topics/reset`: 202.
pub(super) async fn reset_topics(State(s): State<AppState>, path: Segments) -> Result {
    s.call(s.herder.reset_connector_active_topics(path.name()))
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `GET /connectors/NAME/offsets`.
pub(super) async fn offsets(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.connector_offsets(path.name())).await?))
}

/// `PATCH /connectors/NAME/offsets`: 200 with a message.
pub(super) async fn alter_offsets(
    State(s): State<AppState>,
    path: Segments,
    Json(OffsetsBody(offsets)): Json<OffsetsBody>,
) -> Result {
    let offsets = offsets.filter(|o| !o.is_empty()).ok_or_else(|| {
        RestError::bad_request("Partitions / offsets need to be provided for an alter offsets request")
    })?;
    Ok(ok(&s
        .call(s.herder.alter_connector_offsets(path.name(), offsets))
        .await?))
}

/// `DELETE /connectors/NAME/offsets`: 200 with a message.
pub(super) async fn reset_offsets(State(s): State<AppState>, path: Segments) -> Result {
    Ok(ok(&s.call(s.herder.reset_connector_offsets(path.name())).await?))
}
