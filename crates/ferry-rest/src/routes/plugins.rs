//! `/connector-plugins`.

use axum::extract::State;
use axum::response::Response;
use ferry_core::PluginKind;

use super::{ok, query_bool, AppState, Params, Segments};
use crate::body::Json;
use crate::entities::NullableConfig;
use crate::error::RestError;

/// `GET /connector-plugins[?connectorsOnly=false]`: connectors only unless asked otherwise.
pub(super) async fn list(State(s): State<AppState>, Params(params): Params) -> Result<Response, RestError> {
    let connectors_only = query_bool(&params, "connectorsOnly", true);
    let mut plugins = s.call(s.herder.plugins()).await?;
    if connectors_only {
        plugins.retain(|p| matches!(p.ty, PluginKind::Source | PluginKind::Sink));
    }
    Ok(ok(&plugins))
}

/// `GET /connector-plugins/P/config`.
pub(super) async fn config(State(s): State<AppState>, path: Segments) -> Result<Response, RestError> {
    Ok(ok(&s.call(s.herder.connector_plugin_config(path.name())).await?))
}

/// A class name or alias without its `Connector` suffix, so `FileStreamSource`,
/// `FileStreamSourceConnector` and the full class name all match.
fn normalized(plugin: &str) -> &str {
    match plugin.strip_suffix("Connector") {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => plugin,
    }
}

/// `PUT /connector-plugins/P/config/validate`.
pub(super) async fn validate(
    State(s): State<AppState>,
    path: Segments,
    Json(config): Json<NullableConfig>,
) -> Result<Response, RestError> {
    let plugin = path.name();
    if let Some(Some(class)) = config.get("connector.class") {
        if !normalized(class).ends_with(normalized(plugin)) {
            return Err(RestError::bad_request(format!(
                "Included connector type {class} does not match request type {plugin}"
            )));
        }
    }
    Ok(ok(&s.call(s.herder.validate_connector_config(config)).await?))
}
