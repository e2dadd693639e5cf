//! An in-memory herder and request helpers for the REST tests.

#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use ferry_core::config::{ConfigDef, ConfigKey, ConfigType, Importance};
use ferry_core::{ConfigMap, PluginKind};
use ferry_rest::entities::*;
use ferry_rest::{Herder, HerderError, HerderResult};
use indexmap::IndexMap;
use serde_json::Value;
use tower::ServiceExt;

pub const SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// What the test herder keeps per connector.
#[derive(Clone, Debug)]
pub struct Conn {
    pub config: ConfigMap,
    pub state: State,
    pub offsets: Vec<ConnectorOffset>,
}

/// Calls the herder saw that tests look at.
#[derive(Default, Debug)]
pub struct Seen {
    pub restarts: Vec<String>,
    pub restart_requests: Vec<RestartRequest>,
    pub task_restarts: Vec<ConnectorTaskId>,
    pub created: Vec<(String, NullableConfig, Option<InitialState>)>,
    pub put: Vec<(String, NullableConfig)>,
    pub validated: Vec<NullableConfig>,
    pub logger_sets: Vec<(String, String, LoggerScope)>,
}

#[derive(Default)]
pub struct TestHerder {
    pub connectors: Mutex<IndexMap<String, Conn>>,
    /// Names listed by `connectors()` whose lookups answer 404 (deleted meanwhile).
    pub ghosts: Mutex<HashSet<String>>,
    pub seen: Mutex<Seen>,
    pub topic_tracking: bool,
    pub ready: bool,
    /// When set, `health_check` never resolves.
    pub hang_health: bool,
    /// Herder calls on this connector never finish.
    pub slow_connector: Option<String>,
}

fn file_source_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("file", ConfigType::String)
                .importance(Importance::High)
                .doc("Source filename.")
                .default_null(),
        )
        .define(
            ConfigKey::new("topic", ConfigType::List)
                .importance(Importance::High)
                .doc("The topic to publish data to"),
        )
        .define(
            ConfigKey::new("batch.size", ConfigType::Int)
                .default_value("2000")
                .importance(Importance::Low),
        )
}

fn to_config(config: NullableConfig) -> ConfigMap {
    config
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

impl TestHerder {
    pub fn new() -> Self {
        TestHerder {
            topic_tracking: true,
            ready: true,
            ..Default::default()
        }
    }

    pub fn with_connector(self, name: &str, state: State) -> Self {
        let mut config = ConfigMap::new();
        config.insert("connector.class".into(), SOURCE_CLASS.into());
        config.insert("topic".into(), "t".into());
        config.insert("name".into(), name.into());
        self.connectors.lock().unwrap().insert(
            name.into(),
            Conn {
                config,
                state,
                offsets: vec![ConnectorOffset {
                    partition: Some(
                        serde_json::json!({"filename": "/tmp/in"})
                            .as_object()
                            .cloned()
                            .unwrap(),
                    ),
                    offset: Some(serde_json::json!({"position": 42}).as_object().cloned().unwrap()),
                }],
            },
        );
        self
    }

    async fn maybe_hang(&self, name: &str) {
        if self.slow_connector.as_deref() == Some(name) {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    }

    fn get(&self, name: &str) -> HerderResult<Conn> {
        if self.ghosts.lock().unwrap().contains(name) {
            return Err(HerderError::connector_not_found(name));
        }
        self.connectors
            .lock()
            .unwrap()
            .get(name)
            .cloned()
            .ok_or_else(|| HerderError::connector_not_found(name))
    }

    fn info(name: &str, c: &Conn) -> ConnectorInfo {
        let tasks = if c.state == State::Stopped {
            vec![]
        } else {
            vec![ConnectorTaskId::new(name, 0)]
        };
        ConnectorInfo {
            name: name.into(),
            config: c.config.clone(),
            tasks,
            ty: ConnectorType::Source,
        }
    }

    fn validate_config(&self, config: &NullableConfig) -> HerderResult<ConfigInfos> {
        let Some(Some(class)) = config.get("connector.class") else {
            let shown = java_map_string(config.iter().map(|(k, v)| (k, v.as_deref().unwrap_or("null"))));
            return Err(HerderError::BadRequest(format!(
                "Connector config {shown} contains no connector type"
            )));
        };
        let def = file_source_def();
        let mut values = def.validate(&to_config(config.clone()));
        for (k, v) in config {
            if v.is_none() {
                values.push(ferry_core::config::ConfigValueInfo {
                    name: k.clone(),
                    value: None,
                    recommended_values: vec![],
                    errors: vec!["Null value can not be supplied as the configuration value.".into()],
                    visible: true,
                });
            }
        }
        Ok(ConfigInfos::generate(class, &def, &values))
    }

    fn store(&self, name: &str, config: NullableConfig, state: State) -> HerderResult<ConnectorInfo> {
        let infos = self.validate_config(&config)?;
        if let Some(msg) = infos.invalid_config_message() {
            return Err(HerderError::BadRequest(msg));
        }
        let conn = Conn {
            config: to_config(config),
            state,
            offsets: vec![],
        };
        let info = Self::info(name, &conn);
        self.connectors.lock().unwrap().insert(name.into(), conn);
        Ok(info)
    }

    fn status_of(name: &str, c: &Conn) -> ConnectorStateInfo {
        let tasks = if c.state == State::Stopped {
            vec![]
        } else {
            vec![TaskState {
                id: 0,
                state: c.state,
                worker_id: "127.0.0.1:8083".into(),
                version: Some("4.3.0".into()),
                trace: None,
            }]
        };
        ConnectorStateInfo {
            name: name.into(),
            connector: ConnectorState {
                state: c.state,
                worker_id: "127.0.0.1:8083".into(),
                version: Some("4.3.0".into()),
                trace: None,
            },
            tasks,
            ty: ConnectorType::Source,
        }
    }

    fn set_state(&self, name: &str, state: State) -> HerderResult<()> {
        let mut map = self.connectors.lock().unwrap();
        let c = map
            .get_mut(name)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown connector {name}")))?;
        c.state = state;
        Ok(())
    }

    fn require_stopped(&self, name: &str) -> HerderResult<()> {
        if self.get(name)?.state != State::Stopped {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. \
                 This can be done for the specified connector by issuing a 'PUT' request to the \
                 '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Herder for TestHerder {
    async fn server_info(&self) -> HerderResult<ServerInfo> {
        Ok(ServerInfo {
            version: "3.9.0".into(),
            commit: "ferry".into(),
            kafka_cluster_id: Some("abc".into()),
        })
    }

    async fn health_check(&self) -> HerderResult<()> {
        if self.hang_health {
            std::future::pending::<()>().await;
        }
        Ok(())
    }

    fn is_ready(&self) -> bool {
        self.ready
    }

    async fn connectors(&self) -> HerderResult<Vec<String>> {
        let mut names: Vec<String> = self.connectors.lock().unwrap().keys().cloned().collect();
        names.extend(self.ghosts.lock().unwrap().iter().cloned());
        Ok(names)
    }

    async fn connector_info(&self, name: &str) -> HerderResult<ConnectorInfo> {
        self.maybe_hang(name).await;
        Ok(Self::info(name, &self.get(name)?))
    }

    async fn create_connector(
        &self,
        name: &str,
        config: NullableConfig,
        initial_state: Option<InitialState>,
    ) -> HerderResult<ConnectorInfo> {
        self.seen
            .lock()
            .unwrap()
            .created
            .push((name.into(), config.clone(), initial_state));
        if self.connectors.lock().unwrap().contains_key(name) {
            return Err(HerderError::connector_exists(name));
        }
        let state = match initial_state {
            Some(InitialState::Paused) => State::Paused,
            Some(InitialState::Stopped) => State::Stopped,
            _ => State::Running,
        };
        self.store(name, config, state)
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: NullableConfig,
    ) -> HerderResult<Created<ConnectorInfo>> {
        self.seen.lock().unwrap().put.push((name.into(), config.clone()));
        let existing = self.connectors.lock().unwrap().get(name).map(|c| c.state);
        let result = self.store(name, config, existing.unwrap_or(State::Running))?;
        Ok(Created {
            created: existing.is_none(),
            result,
        })
    }

    async fn patch_connector_config(&self, name: &str, patch: NullableConfig) -> HerderResult<ConnectorInfo> {
        let c = self.get(name)?;
        let mut merged: NullableConfig = c.config.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for (k, v) in patch {
            match v {
                Some(v) => {
                    merged.insert(k, Some(v));
                }
                None => {
                    merged.shift_remove(&k);
                }
            }
        }
        self.store(name, merged, c.state)
    }

    async fn delete_connector(&self, name: &str) -> HerderResult<()> {
        self.connectors
            .lock()
            .unwrap()
            .shift_remove(name)
            .map(|_| ())
            .ok_or_else(|| HerderError::connector_not_found(name))
    }

    async fn connector_config(&self, name: &str) -> HerderResult<ConfigMap> {
        Ok(self.get(name)?.config)
    }

    async fn connector_status(&self, name: &str) -> HerderResult<ConnectorStateInfo> {
        let c = self
            .get(name)
            .map_err(|_| HerderError::NotFound(format!("No status found for connector {name}")))?;
        Ok(Self::status_of(name, &c))
    }

    async fn task_configs(&self, name: &str) -> HerderResult<Vec<TaskInfo>> {
        let c = self.get(name)?;
        Ok(Self::info(name, &c)
            .tasks
            .into_iter()
            .map(|id| TaskInfo {
                id,
                config: c.config.clone(),
            })
            .collect())
    }

    async fn task_status(&self, id: &ConnectorTaskId) -> HerderResult<TaskState> {
        let not_found = || HerderError::NotFound(format!("No status found for task {id}"));
        let c = self.get(&id.connector).map_err(|_| not_found())?;
        Self::status_of(&id.connector, &c)
            .tasks
            .into_iter()
            .find(|t| t.id == id.task)
            .ok_or_else(not_found)
    }

    async fn restart_connector(&self, name: &str) -> HerderResult<()> {
        self.get(name)
            .map_err(|_| HerderError::NotFound(format!("Unknown connector: {name}")))?;
        self.seen.lock().unwrap().restarts.push(name.into());
        Ok(())
    }

    async fn restart_connector_and_tasks(
        &self,
        request: &RestartRequest,
    ) -> HerderResult<ConnectorStateInfo> {
        let c = self
            .get(&request.connector)
            .map_err(|_| HerderError::NotFound(format!("Unknown connector: {}", request.connector)))?;
        self.seen.lock().unwrap().restart_requests.push(request.clone());
        let mut status = Self::status_of(&request.connector, &c);
        status.connector.state = State::Restarting;
        if request.include_tasks {
            for t in &mut status.tasks {
                t.state = State::Restarting;
            }
        }
        Ok(status)
    }

    async fn restart_task(&self, id: &ConnectorTaskId) -> HerderResult<()> {
        self.task_status(id)
            .await
            .map_err(|_| HerderError::NotFound(format!("Unknown task: {id}")))?;
        self.seen.lock().unwrap().task_restarts.push(id.clone());
        Ok(())
    }

    async fn pause_connector(&self, name: &str) -> HerderResult<()> {
        self.set_state(name, State::Paused)
    }

    async fn resume_connector(&self, name: &str) -> HerderResult<()> {
        self.set_state(name, State::Running)
    }

    async fn stop_connector(&self, name: &str) -> HerderResult<()> {
        self.set_state(name, State::Stopped)
    }

    async fn connector_active_topics(&self, name: &str) -> HerderResult<ActiveTopicsInfo> {
        if !self.topic_tracking {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        let topics = match self.get(name) {
            Ok(_) => vec!["t".to_string()],
            Err(_) => vec![],
        };
        Ok(ActiveTopicsInfo {
            connector: name.into(),
            topics,
        })
    }

    async fn reset_connector_active_topics(&self, _name: &str) -> HerderResult<()> {
        if !self.topic_tracking {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        Ok(())
    }

    async fn connector_offsets(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        Ok(ConnectorOffsets {
            offsets: self.get(name)?.offsets,
        })
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message> {
        self.require_stopped(name)?;
        self.connectors.lock().unwrap().get_mut(name).unwrap().offsets = offsets;
        Ok(Message::new(
            "The offsets for this connector have been altered successfully",
        ))
    }

    async fn reset_connector_offsets(&self, name: &str) -> HerderResult<Message> {
        self.require_stopped(name)?;
        self.connectors
            .lock()
            .unwrap()
            .get_mut(name)
            .unwrap()
            .offsets
            .clear();
        Ok(Message::new(
            "The offsets for this connector have been reset successfully",
        ))
    }

    async fn plugins(&self) -> HerderResult<Vec<PluginInfo>> {
        let p = |class: &str, ty, version: &str| PluginInfo {
            class: class.into(),
            ty,
            version: Some(version.into()),
        };
        Ok(vec![
            p(
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                PluginKind::Sink,
                "3.9.0",
            ),
            p(SOURCE_CLASS, PluginKind::Source, "3.9.0"),
            p(
                "org.apache.kafka.connect.transforms.InsertField$Value",
                PluginKind::Transformation,
                "3.9.0",
            ),
            p(
                "org.apache.kafka.connect.json.JsonConverter",
                PluginKind::Converter,
                "3.9.0",
            ),
            p(
                "org.apache.kafka.connect.storage.SimpleHeaderConverter",
                PluginKind::HeaderConverter,
                "undefined",
            ),
        ])
    }

    async fn connector_plugin_config(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        if SOURCE_CLASS.ends_with(plugin) || plugin == "FileStreamSource" {
            Ok(ConfigKeyInfo::list(&file_source_def()))
        } else {
            Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")))
        }
    }

    async fn validate_connector_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos> {
        self.seen.lock().unwrap().validated.push(config.clone());
        self.validate_config(&config)
    }

    async fn logger_levels(&self) -> HerderResult<IndexMap<String, LoggerLevel>> {
        let mut out = IndexMap::new();
        out.insert(
            "root".to_string(),
            LoggerLevel {
                level: "INFO".into(),
                last_modified: None,
            },
        );
        Ok(out)
    }

    async fn logger_level(&self, name: &str) -> HerderResult<Option<LoggerLevel>> {
        Ok((name == "root" || name.starts_with("org.")).then(|| LoggerLevel {
            level: "INFO".into(),
            last_modified: None,
        }))
    }

    async fn set_logger_level(
        &self,
        namespace: &str,
        level: &str,
        scope: LoggerScope,
    ) -> HerderResult<Vec<String>> {
        self.seen
            .lock()
            .unwrap()
            .logger_sets
            .push((namespace.into(), level.into(), scope));
        Ok(vec![namespace.to_string()])
    }
}

/// A response as the tests read it.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.raw)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// Asserts an error body `{"error_code": status, "message": message}` with a JSON content type.
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(
            self.headers.get("content-type").map(|v| v.to_str().unwrap()),
            Some("application/json")
        );
        assert_eq!(
            self.json(),
            serde_json::json!({"error_code": status, "message": message}),
            "body: {}",
            self.text()
        );
    }
}

pub fn app(herder: Arc<TestHerder>) -> Router {
    ferry_rest::router(herder)
}

pub async fn send(app: &Router, method: &str, uri: &str, body: Option<&str>) -> Reply {
    let json: &[(&str, &str)] = if body.is_some() {
        &[("content-type", "application/json")]
    } else {
        &[]
    };
    send_with(app, method, uri, body, json).await
}

pub async fn send_with(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    send_bytes(app, method, uri, body.map(str::as_bytes), headers).await
}

/// Like [`send_with`], with a body of any bytes.
pub async fn send_bytes(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<&[u8]>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map(|b| Body::from(b.to_owned())).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let raw = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Reply { status, headers, raw }
}
