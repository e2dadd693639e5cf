//! Request and response bodies of the Connect REST API.
//!
//! Field names and order follow Kafka Connect's Jackson output exactly
//! (`serde_json` with `preserve_order` writes fields in declaration order).

use std::fmt;

use ferry_core::config::{ConfigDef, ConfigKey, ConfigValueInfo as CoreConfigValueInfo};
use ferry_core::{ConfigMap, PluginKind};
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JSON object (offset partitions and offsets).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// A connector configuration as sent by a client: a JSON `null` value is kept
/// as `None` (PATCH removes the key; elsewhere validation rejects it).
pub type NullableConfig = IndexMap<String, Option<String>>;

/// `GET /`: the worker's version and Kafka cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The worker's version (Kafka Connect's it emulates).
    pub version: String,
    /// The commit it was built from.
    pub commit: String,
    /// The Kafka cluster id, when the broker could be asked.
    pub kafka_cluster_id: Option<String>,
}

/// `GET /health` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// `healthy`, `starting` or `unhealthy`.
    pub status: String,
    /// What the status means, in words.
    pub message: String,
}

impl WorkerStatus {
    /// The worker answered its health check.
    pub fn healthy() -> Self {
        WorkerStatus {
            status: "healthy".into(),
            message: "Worker has completed startup and is ready to handle requests.".into(),
        }
    }

    /// The worker has not finished starting.
    pub fn starting(details: Option<&str>) -> Self {
        WorkerStatus {
            status: "starting".into(),
            message: with_details("Worker is still starting up.", details),
        }
    }

    /// The worker started but did not answer in time.
    pub fn unhealthy(details: Option<&str>) -> Self {
        WorkerStatus {
            status: "unhealthy".into(),
            message: with_details(
                "Worker was unable to handle this request and may be unable to handle other requests.",
                details,
            ),
        }
    }
}

fn with_details(base: &str, details: Option<&str>) -> String {
    match details {
        Some(d) => format!("{base} {d}"),
        None => base.to_owned(),
    }
}

/// Connector direction as the REST API reports it (`unknown` when the class
/// cannot be loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    /// Reads from an external system into Kafka.
    Source,
    /// Writes from Kafka to an external system.
    Sink,
    /// The class could not be loaded.
    Unknown,
}

impl From<ferry_core::ConnectorType> for ConnectorType {
    fn from(t: ferry_core::ConnectorType) -> Self {
        match t {
            ferry_core::ConnectorType::Source => ConnectorType::Source,
            ferry_core::ConnectorType::Sink => ConnectorType::Sink,
        }
    }
}

/// A task of a connector; prints as `NAME-N`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectorTaskId {
    /// The connector's name.
    pub connector: String,
    /// The task number, from 0.
    pub task: i32,
}

impl ConnectorTaskId {
    /// Task `task` of `connector`.
    pub fn new(connector: impl Into<String>, task: i32) -> Self {
        ConnectorTaskId {
            connector: connector.into(),
            task,
        }
    }
}

impl fmt::Display for ConnectorTaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.connector, self.task)
    }
}

/// `GET /connectors/NAME`: a connector's config and tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// The connector's name.
    pub name: String,
    /// Its configuration as submitted.
    pub config: ConfigMap,
    /// Its tasks.
    pub tasks: Vec<ConnectorTaskId>,
    #[serde(rename = "type")]
    /// Source or sink.
    pub ty: ConnectorType,
}

/// Runtime state of a connector or task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    /// Not yet started on a worker.
    Unassigned,
    /// Running.
    Running,
    /// Paused by a request.
    Paused,
    /// Failed; the trace says why.
    Failed,
    /// About to be restarted by a restart request.
    Restarting,
    /// Connectors only.
    Stopped,
}

impl State {
    /// Upper-case name (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn blank(trace: &Option<String>) -> bool {
    trace.as_deref().is_none_or(str::is_empty)
}

/// The connector entry of a status. Connect 4.x writes `version` before `trace`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorState {
    /// Its state.
    pub state: State,
    /// Advertised `host:port` of the worker running it.
    pub worker_id: String,
    /// The connector plugin's version (`null` when unknown).
    #[serde(default)]
    pub version: Option<String>,
    /// Stack trace of a failure; omitted from JSON when absent or empty.
    #[serde(default, skip_serializing_if = "blank")]
    pub trace: Option<String>,
}

/// One task entry of a status (`GET /connectors/NAME/tasks/N/status`); `version` comes
/// before `trace`, as Connect 4.x writes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    /// The task number.
    pub id: i32,
    /// Its state.
    pub state: State,
    /// Advertised `host:port` of the worker running it.
    pub worker_id: String,
    /// The task plugin's version (`null` when unknown).
    #[serde(default)]
    pub version: Option<String>,
    /// Stack trace of a failure; omitted from JSON when absent or empty.
    #[serde(default, skip_serializing_if = "blank")]
    pub trace: Option<String>,
}

/// `GET /connectors/NAME/status`. Tasks are sorted by id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorStateInfo {
    /// The connector's name.
    pub name: String,
    /// The connector itself.
    pub connector: ConnectorState,
    /// Its tasks.
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type")]
    /// Source or sink.
    pub ty: ConnectorType,
}

/// One task's configuration (`GET /connectors/NAME/tasks`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// The task.
    pub id: ConnectorTaskId,
    /// Its configuration, as the connector generated it.
    pub config: ConfigMap,
}

/// Topics a connector used (`GET /connectors/NAME/topics` wraps it as `{NAME: {...}}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTopicsInfo {
    /// The connector; not part of the JSON object.
    #[serde(skip)]
    pub connector: String,
    /// Topic names, sorted.
    pub topics: Vec<String>,
}

/// One source partition and its offset. `offset: None` in a PATCH resets the partition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorOffset {
    /// The source partition (or Kafka topic and partition for sinks).
    pub partition: Option<JsonObject>,
    /// Its offset.
    pub offset: Option<JsonObject>,
}

/// `GET`/`PATCH /connectors/NAME/offsets`.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct ConnectorOffsets {
    /// Every partition with a stored offset.
    pub offsets: Vec<ConnectorOffset>,
}

/// A plain message (`{"message": "..."}`), e.g. after altering offsets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The message text.
    pub message: String,
}

impl Message {
    /// A message.
    pub fn new(message: impl Into<String>) -> Self {
        Message {
            message: message.into(),
        }
    }
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// The HTTP status code.
    pub error_code: u16,
    /// What went wrong.
    pub message: String,
}

/// A logger's level (`GET /admin/loggers/NAME`); `last_modified` is epoch ms or null.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggerLevel {
    /// The level name (`INFO`, `DEBUG`, ...).
    pub level: String,
    /// When the level was last set, in epoch milliseconds; `null` if never.
    pub last_modified: Option<i64>,
}

/// Where a log level change applies (`?scope=` of `PUT /admin/loggers/NAME`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoggerScope {
    /// This worker only (the default; also used for unknown scopes).
    Worker,
    /// Every worker of the cluster, via the config topic.
    Cluster,
}

/// One installed plugin (`GET /connector-plugins`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// The Java class name it is registered under.
    pub class: String,
    #[serde(rename = "type", with = "plugin_kind")]
    /// Connector, converter, transform, predicate, ...
    pub ty: PluginKind,
    /// Omitted when unknown (`None` or `"undefined"`).
    #[serde(default, skip_serializing_if = "no_version")]
    pub version: Option<String>,
}

fn no_version(v: &Option<String>) -> bool {
    matches!(v.as_deref(), None | Some("undefined"))
}

mod plugin_kind {
    use super::*;

    const KINDS: [PluginKind; 6] = [
        PluginKind::Source,
        PluginKind::Sink,
        PluginKind::Transformation,
        PluginKind::Predicate,
        PluginKind::Converter,
        PluginKind::HeaderConverter,
    ];

    pub fn serialize<S: Serializer>(k: &PluginKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PluginKind, D::Error> {
        let s = String::deserialize(d)?;
        KINDS
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(&s))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown plugin type {s}")))
    }
}

/// The definition of one configuration key (`GET /connector-plugins/P/config`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigKeyInfo {
    /// The setting's name.
    pub name: String,
    /// Java enum name: `STRING`, `INT`, `LIST`, ...
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether it has no default and must be given.
    pub required: bool,
    /// The default, as Java prints it.
    pub default_value: Option<String>,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub importance: String,
    /// Its documentation.
    pub documentation: Option<String>,
    /// Its group, when it has one.
    pub group: Option<String>,
    /// Order within the group (-1 when none); Connect 4.x names it `order_in_group`.
    pub order_in_group: i32,
    /// `NONE`, `SHORT`, `MEDIUM` or `LONG`.
    pub width: String,
    /// The name for display.
    pub display_name: String,
    /// Settings whose recommended values depend on this one.
    pub dependents: Vec<String>,
}

impl From<&ConfigKey> for ConfigKeyInfo {
    fn from(k: &ConfigKey) -> Self {
        ConfigKeyInfo {
            name: k.name.clone(),
            ty: k.ty.java_name().to_owned(),
            required: k.is_required(),
            default_value: k.default_display(),
            importance: k.importance.java_name().to_owned(),
            documentation: Some(k.documentation.clone()),
            group: k.group.clone(),
            order_in_group: k.order_in_group,
            width: k.width.java_name().to_owned(),
            display_name: k.display_name.clone(),
            dependents: k.dependents.clone(),
        }
    }
}

impl ConfigKeyInfo {
    /// Every key of `def`, in definition order.
    pub fn list(def: &ConfigDef) -> Vec<ConfigKeyInfo> {
        def.keys().map(ConfigKeyInfo::from).collect()
    }
}

/// The validated value of one key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValueInfo {
    /// The setting's name.
    pub name: String,
    /// The value given or defaulted.
    pub value: Option<String>,
    /// Values the plugin recommends.
    pub recommended_values: Vec<String>,
    /// What is wrong with the value; empty when valid.
    pub errors: Vec<String>,
    /// Whether the setting applies given the others.
    pub visible: bool,
}

impl From<&CoreConfigValueInfo> for ConfigValueInfo {
    fn from(v: &CoreConfigValueInfo) -> Self {
        ConfigValueInfo {
            name: v.name.clone(),
            value: v.value.clone(),
            recommended_values: v.recommended_values.clone(),
            errors: v.errors.clone(),
            visible: v.visible,
        }
    }
}

/// A key's definition (null for values of undefined keys) and its validated value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// The setting's definition (null for settings a plugin does not declare).
    pub definition: Option<ConfigKeyInfo>,
    /// The value and its errors.
    pub value: Option<ConfigValueInfo>,
}

/// `PUT /connector-plugins/P/config/validate`: every key with its errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInfos {
    /// The connector class that was validated.
    pub name: String,
    /// How many settings have errors.
    pub error_count: usize,
    /// Group names in display order.
    pub groups: Vec<String>,
    /// Every setting.
    pub configs: Vec<ConfigInfo>,
}

impl ConfigInfos {
    /// Pairs validation results with their definitions, as Connect does:
    /// values of keys `def` does not define come first (with a null
    /// definition), then every defined key in definition order with its value
    /// (null when it was not validated). `error_count` counts every message;
    /// `groups` are the definition's groups in order.
    pub fn generate(name: &str, def: &ConfigDef, values: &[CoreConfigValueInfo]) -> ConfigInfos {
        let mut error_count = 0;
        let mut configs = Vec::with_capacity(values.len());
        for v in values.iter().filter(|v| def.key(&v.name).is_none()) {
            error_count += v.errors.len();
            configs.push(ConfigInfo {
                definition: None,
                value: Some(v.into()),
            });
        }
        for key in def.keys() {
            let value = values.iter().rev().find(|v| v.name == key.name);
            if let Some(v) = value {
                error_count += v.errors.len();
            }
            configs.push(ConfigInfo {
                definition: Some(key.into()),
                value: value.map(Into::into),
            });
        }
        ConfigInfos {
            name: name.to_owned(),
            error_count,
            groups: def.groups(),
            configs,
        }
    }

    /// Every error message, key by key, in `configs` order.
    pub fn error_messages(&self) -> impl Iterator<Item = &str> {
        self.configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .flat_map(|v| v.errors.iter().map(String::as_str))
    }

    /// The 400 message Connect answers a create/update with when validation
    /// found errors; `None` when there are none.
    pub fn invalid_config_message(&self) -> Option<String> {
        if self.error_count == 0 {
            return None;
        }
        let mut out = format!(
            "Connector configuration is invalid and contains the following {} error(s):",
            self.error_count
        );
        for m in self.error_messages() {
            out.push('\n');
            out.push_str(m);
        }
        out.push_str(
            "\nYou can also find the above list of errors at the endpoint \
             `/connector-plugins/{connectorType}/config/validate`",
        );
        Some(out)
    }
}

/// Target state of a connector created with `POST /connectors`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InitialState {
    /// Start the connector and its tasks.
    Running,
    /// Create it paused.
    Paused,
    /// Create it stopped (no tasks).
    Stopped,
}

impl InitialState {
    /// Parses a state name, ignoring case.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(InitialState::Running),
            "PAUSED" => Some(InitialState::Paused),
            "STOPPED" => Some(InitialState::Stopped),
            _ => None,
        }
    }
}

/// `POST /connectors` body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreateConnectorRequest {
    /// The connector's name.
    pub name: Option<String>,
    /// Its configuration; null values are refused.
    pub config: Option<NullableConfig>,
    /// The state to create it in (`RUNNING` by default).
    pub initial_state: Option<InitialState>,
}

/// `POST /connectors/NAME/restart?includeTasks=&onlyFailed=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestartRequest {
    /// The connector's name.
    pub connector: String,
    /// Restart only instances that are FAILED.
    pub only_failed: bool,
    /// Restart the tasks too.
    pub include_tasks: bool,
}

impl RestartRequest {
    /// True for the plain restart (connector instance only, 204 and no body).
    pub fn connector_only(&self) -> bool {
        !self.only_failed && !self.include_tasks
    }
}

/// A result and whether the call created the connector (PUT config: 201 vs 200).
#[derive(Clone, Debug, PartialEq)]
pub struct Created<T> {
    /// Whether the call created the connector (201) or updated it (200).
    pub created: bool,
    /// The answer's body.
    pub result: T,
}

/// Formats a configuration the way Java's `Map.toString` does (`{k=v, k2=v2}`),
/// as Connect's `... contains no connector type` message shows it.
pub fn java_map_string<'a, V: fmt::Display + 'a>(
    entries: impl IntoIterator<Item = (&'a String, V)>,
) -> String {
    ferry_core::java::collections::map_to_string(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::config::{ConfigType, Importance};
    use serde_json::json;

    #[test]
    fn status_omits_empty_trace_and_keeps_field_order() {
        let s = ConnectorStateInfo {
            name: "c".into(),
            connector: ConnectorState {
                state: State::Running,
                worker_id: "w:8083".into(),
                version: Some("4.3.0".into()),
                trace: Some(String::new()),
            },
            tasks: vec![
                TaskState {
                    id: 0,
                    state: State::Failed,
                    worker_id: "w:8083".into(),
                    version: Some("4.3.0".into()),
                    trace: Some("boom".into()),
                },
                TaskState {
                    id: 1,
                    state: State::Unassigned,
                    worker_id: "w:8083".into(),
                    version: None,
                    trace: None,
                },
            ],
            ty: ConnectorType::Source,
        };
        // Key order as Kafka Connect 4.3's Jackson writes these entities (checked against
        // its jars): version after worker_id, trace last, a null version kept.
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"name":"c","connector":{"state":"RUNNING","worker_id":"w:8083","version":"4.3.0"},"tasks":[{"id":0,"state":"FAILED","worker_id":"w:8083","version":"4.3.0","trace":"boom"},{"id":1,"state":"UNASSIGNED","worker_id":"w:8083","version":null}],"type":"source"}"#
        );
    }

    #[test]
    fn plugin_info_hides_undefined_version() {
        let p = PluginInfo {
            class: "a.B".into(),
            ty: PluginKind::HeaderConverter,
            version: Some("undefined".into()),
        };
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"class": "a.B", "type": "header_converter"})
        );
    }

    #[test]
    fn config_infos_pair_definitions_with_values() {
        let def = ConfigDef::new()
            .define(
                ConfigKey::new("file", ConfigType::String)
                    .importance(Importance::High)
                    .group("Common", 1),
            )
            .define(ConfigKey::new("batch.size", ConfigType::Int).default_value("2000"));
        let mut values = def.validate(&ConfigMap::new());
        values.push(CoreConfigValueInfo {
            name: "extra".into(),
            value: None,
            recommended_values: vec![],
            errors: vec!["Null value can not be supplied as the configuration value.".into()],
            visible: true,
        });
        let infos = ConfigInfos::generate("org.example.File", &def, &values);
        assert_eq!(infos.error_count, 2);
        assert_eq!(infos.groups, ["Common"]);
        let names: Vec<_> = infos
            .configs
            .iter()
            .map(|c| c.value.as_ref().unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["extra", "file", "batch.size"]);
        assert!(infos.configs[0].definition.is_none());
        let v = serde_json::to_value(&infos.configs[2]).unwrap();
        assert_eq!(
            v["definition"],
            json!({"name": "batch.size", "type": "INT", "required": false, "default_value": "2000",
                   "importance": "MEDIUM", "documentation": "", "group": null, "order_in_group": -1,
                   "width": "NONE", "display_name": "batch.size", "dependents": []})
        );
        let keys: Vec<_> = v["definition"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys[7], "order_in_group");
        assert_eq!(
            infos.invalid_config_message().unwrap(),
            "Connector configuration is invalid and contains the following 2 error(s):\n\
             Null value can not be supplied as the configuration value.\n\
             Missing required configuration \"file\" which has no default value.\n\
             You can also find the above list of errors at the endpoint \
             `/connector-plugins/{connectorType}/config/validate`"
        );
    }

    #[test]
    fn java_map_string_matches_map_to_string() {
        let m: ConfigMap = [("a".to_string(), "1".to_string()), ("b".into(), "x".into())]
            .into_iter()
            .collect();
        assert_eq!(java_map_string(&m), "{a=1, b=x}");
    }
}
