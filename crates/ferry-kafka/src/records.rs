//! Kafka Connect's internal record formats, byte for byte.
//!
//! Kafka Connect writes its config, offset and status topics with a JsonConverter
//! whose schemas are disabled, from Connect structs; the field order below is the
//! order of those struct schemas, and keys are plain UTF-8 strings except on the
//! offsets topic, whose keys are the JSON array `["connector",{partition}]`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ferry_core::{ConfigMap, OffsetMap};
use serde_json::{Map, Value as Json};

/// A record that is not in a format Kafka Connect writes.
#[derive(Debug, thiserror::Error)]
#[error("unreadable record with key {key:?} on an internal topic: {reason}")]
pub struct FormatError {
    /// The record's key, lossily decoded.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

fn format_error(key: &str, reason: impl Into<String>) -> FormatError {
    FormatError {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// A connector's desired state, as stored on the config topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetState {
    /// Running (the default when no record exists).
    Started,
    /// Paused: tasks exist but do not poll.
    Paused,
    /// Stopped: no tasks.
    Stopped,
}

impl TargetState {
    /// `STARTED`, `PAUSED` or `STOPPED`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Started => "STARTED",
            TargetState::Paused => "PAUSED",
            TargetState::Stopped => "STOPPED",
        }
    }
    /// Parses a state name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "STARTED" => Some(TargetState::Started),
            "PAUSED" => Some(TargetState::Paused),
            "STOPPED" => Some(TargetState::Stopped),
            _ => None,
        }
    }
}

/// One record of the config topic.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigRecord {
    /// `connector-NAME`: the connector's configuration; `None` is the tombstone of a delete.
    Connector {
        /// Connector name.
        name: String,
        /// Its configuration.
        config: Option<ConfigMap>,
    },
    /// `task-NAME-N`: one task's configuration (only valid once the matching commit arrives).
    Task {
        /// Connector name.
        connector: String,
        /// Task number.
        task: u32,
        /// The task's configuration.
        config: Option<ConfigMap>,
    },
    /// `commit-NAME`: the preceding task records of NAME form a set of `tasks` tasks.
    Commit {
        /// Connector name.
        connector: String,
        /// How many tasks the set has.
        tasks: u32,
    },
    /// `target-state-NAME`; `None` is a tombstone.
    TargetState {
        /// Connector name.
        connector: String,
        /// The desired state.
        state: Option<TargetState>,
    },
    /// `restart-connector-NAME`: a restart request.
    Restart {
        /// Connector name.
        connector: String,
        /// Restart its tasks too.
        include_tasks: bool,
        /// Restart only what failed.
        only_failed: bool,
    },
    /// `session-key`: the key the group leader distributes for signing internal requests
    /// (KIP-507); the value is Connect's `SESSION_KEY_V0` struct, the key base64-encoded.
    SessionKey {
        /// The raw key bytes.
        key: Vec<u8>,
        /// The key's algorithm (`HmacSHA256`).
        algorithm: String,
        /// When the leader generated it, in ms since the epoch.
        creation_timestamp: i64,
    },
    /// Any other key (tasks-fencing-, logger-cluster-): kept but not interpreted.
    Other {
        /// The record key.
        key: String,
    },
}

const CONNECTOR_PREFIX: &str = "connector-";
const TASK_PREFIX: &str = "task-";
const COMMIT_PREFIX: &str = "commit-";
const TARGET_STATE_PREFIX: &str = "target-state-";
const RESTART_PREFIX: &str = "restart-connector-";
/// The session key's record key (`KafkaConfigBackingStore.SESSION_KEY_KEY`).
pub const SESSION_KEY_KEY: &str = "session-key";

impl ConfigRecord {
    /// The record key.
    pub fn key(&self) -> String {
        match self {
            ConfigRecord::Connector { name, .. } => format!("{CONNECTOR_PREFIX}{name}"),
            ConfigRecord::Task { connector, task, .. } => format!("{TASK_PREFIX}{connector}-{task}"),
            ConfigRecord::Commit { connector, .. } => format!("{COMMIT_PREFIX}{connector}"),
            ConfigRecord::TargetState { connector, .. } => format!("{TARGET_STATE_PREFIX}{connector}"),
            ConfigRecord::Restart { connector, .. } => format!("{RESTART_PREFIX}{connector}"),
            ConfigRecord::SessionKey { .. } => SESSION_KEY_KEY.to_owned(),
            ConfigRecord::Other { key } => key.clone(),
        }
    }

    /// The record value; `None` for tombstones.
    pub fn value(&self) -> Option<Vec<u8>> {
        let json = match self {
            ConfigRecord::Connector { config, .. } | ConfigRecord::Task { config, .. } => {
                let props: Map<String, Json> = config
                    .as_ref()?
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect();
                let mut m = Map::new();
                m.insert("properties".into(), Json::Object(props));
                m
            }
            ConfigRecord::Commit { tasks, .. } => {
                let mut m = Map::new();
                m.insert("tasks".into(), Json::from(*tasks));
                m
            }
            ConfigRecord::TargetState { state, .. } => {
                let state = (*state)?;
                // Workers older than 3.5 know no STOPPED; they read "state" and see PAUSED.
                let legacy = if state == TargetState::Stopped {
                    TargetState::Paused
                } else {
                    state
                };
                let mut m = Map::new();
                m.insert("state".into(), Json::from(legacy.as_str()));
                m.insert("state.v2".into(), Json::from(state.as_str()));
                m
            }
            ConfigRecord::Restart {
                include_tasks,
                only_failed,
                ..
            } => {
                let mut m = Map::new();
                m.insert("include-tasks".into(), Json::Bool(*include_tasks));
                m.insert("only-failed".into(), Json::Bool(*only_failed));
                m
            }
            ConfigRecord::SessionKey {
                key,
                algorithm,
                creation_timestamp,
            } => {
                // SESSION_KEY_V0's field order, as the schemaless JsonConverter writes it.
                let mut m = Map::new();
                m.insert("key".into(), Json::from(BASE64.encode(key)));
                m.insert("algorithm".into(), Json::from(algorithm.as_str()));
                m.insert("creation-timestamp".into(), Json::from(*creation_timestamp));
                m
            }
            ConfigRecord::Other { .. } => return None,
        };
        Some(serde_json::to_vec(&Json::Object(json)).expect("JSON maps always serialize"))
    }

    /// Reads a config-topic record.
    pub fn decode(key: &str, value: Option<&[u8]>) -> Result<ConfigRecord, FormatError> {
        let json = match value {
            Some(bytes) => Some(
                serde_json::from_slice::<Json>(bytes)
                    .map_err(|e| format_error(key, format!("not JSON: {e}")))?,
            ),
            None => None,
        };
        let obj = json.as_ref().and_then(Json::as_object);
        if json.is_some() && obj.is_none() {
            return Err(format_error(key, "value is not a JSON object"));
        }
        let properties = |obj: Option<&Map<String, Json>>| -> Result<Option<ConfigMap>, FormatError> {
            let Some(obj) = obj else { return Ok(None) };
            let props = obj
                .get("properties")
                .and_then(Json::as_object)
                .ok_or_else(|| format_error(key, "no \"properties\" object"))?;
            let mut out = ConfigMap::with_capacity(props.len());
            for (k, v) in props {
                match v {
                    Json::String(s) => {
                        out.insert(k.clone(), s.clone());
                    }
                    Json::Null => {}
                    other => {
                        out.insert(k.clone(), other.to_string());
                    }
                }
            }
            Ok(Some(out))
        };
        if let Some(name) = key.strip_prefix(CONNECTOR_PREFIX) {
            return Ok(ConfigRecord::Connector {
                name: name.to_owned(),
                config: properties(obj)?,
            });
        }
        if let Some(rest) = key.strip_prefix(TASK_PREFIX) {
            let (connector, n) = rest
                .rsplit_once('-')
                .ok_or_else(|| format_error(key, "task key without a task number"))?;
            let task = n
                .parse()
                .map_err(|_| format_error(key, "task number is not a number"))?;
            return Ok(ConfigRecord::Task {
                connector: connector.to_owned(),
                task,
                config: properties(obj)?,
            });
        }
        if let Some(name) = key.strip_prefix(COMMIT_PREFIX) {
            let tasks = obj
                .and_then(|o| o.get("tasks"))
                .and_then(Json::as_u64)
                .ok_or_else(|| format_error(key, "commit record without \"tasks\""))?;
            return Ok(ConfigRecord::Commit {
                connector: name.to_owned(),
                tasks: tasks as u32,
            });
        }
        if let Some(name) = key.strip_prefix(TARGET_STATE_PREFIX) {
            let state = match obj {
                None => None,
                Some(o) => {
                    let raw = o
                        .get("state.v2")
                        .and_then(Json::as_str)
                        .or_else(|| o.get("state").and_then(Json::as_str))
                        .ok_or_else(|| format_error(key, "target state without \"state\""))?;
                    Some(
                        TargetState::parse(raw)
                            .ok_or_else(|| format_error(key, format!("unknown target state {raw}")))?,
                    )
                }
            };
            return Ok(ConfigRecord::TargetState {
                connector: name.to_owned(),
                state,
            });
        }
        if let Some(name) = key.strip_prefix(RESTART_PREFIX) {
            let flag = |f: &str| {
                obj.and_then(|o| o.get(f))
                    .and_then(Json::as_bool)
                    .unwrap_or(false)
            };
            return Ok(ConfigRecord::Restart {
                connector: name.to_owned(),
                include_tasks: flag("include-tasks"),
                only_failed: flag("only-failed"),
            });
        }
        if key == SESSION_KEY_KEY {
            let o = obj.ok_or_else(|| format_error(key, "session key is null"))?;
            let text = o
                .get("key")
                .and_then(Json::as_str)
                .ok_or_else(|| format_error(key, "session key without a \"key\" string"))?;
            let raw = BASE64
                .decode(text)
                .map_err(|e| format_error(key, format!("session key is not base64: {e}")))?;
            let algorithm = o
                .get("algorithm")
                .and_then(Json::as_str)
                .ok_or_else(|| format_error(key, "session key without an \"algorithm\" string"))?;
            let creation_timestamp = o
                .get("creation-timestamp")
                .and_then(Json::as_i64)
                .ok_or_else(|| format_error(key, "session key without a \"creation-timestamp\" long"))?;
            return Ok(ConfigRecord::SessionKey {
                key: raw,
                algorithm: algorithm.to_owned(),
                creation_timestamp,
            });
        }
        Ok(ConfigRecord::Other { key: key.to_owned() })
    }
}

/// A connector or task state, as Kafka Connect names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// `UNASSIGNED`: not running anywhere yet.
    Unassigned,
    /// `RUNNING`.
    Running,
    /// `PAUSED`.
    Paused,
    /// `FAILED`, with a trace.
    Failed,
    /// `RESTARTING`.
    Restarting,
    /// `STOPPED`.
    Stopped,
    /// Written by Connect when a task or connector is removed (`DESTROYED`).
    Destroyed,
}

impl State {
    /// The upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
            State::Destroyed => "DESTROYED",
        }
    }
    /// Parses a state name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UNASSIGNED" => State::Unassigned,
            "RUNNING" => State::Running,
            "PAUSED" => State::Paused,
            "FAILED" => State::Failed,
            "RESTARTING" => State::Restarting,
            "STOPPED" => State::Stopped,
            "DESTROYED" => State::Destroyed,
            _ => return None,
        })
    }
}

/// Key of a status-topic record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StatusKey {
    /// `status-connector-NAME`.
    Connector(String),
    /// `status-task-NAME-N`.
    Task(String, u32),
    /// `status-topic-TOPIC:connector-NAME`.
    Topic {
        /// The topic.
        topic: String,
        /// The connector that used it.
        connector: String,
    },
}

impl StatusKey {
    /// The record key.
    pub fn encode(&self) -> String {
        match self {
            StatusKey::Connector(c) => format!("status-connector-{c}"),
            StatusKey::Task(c, t) => format!("status-task-{c}-{t}"),
            StatusKey::Topic { topic, connector } => format!("status-topic-{topic}:connector-{connector}"),
        }
    }
    /// Parses a record key.
    pub fn decode(key: &str) -> Option<StatusKey> {
        if let Some(c) = key.strip_prefix("status-connector-") {
            return Some(StatusKey::Connector(c.to_owned()));
        }
        if let Some(rest) = key.strip_prefix("status-task-") {
            let (c, t) = rest.rsplit_once('-')?;
            return Some(StatusKey::Task(c.to_owned(), t.parse().ok()?));
        }
        if let Some(rest) = key.strip_prefix("status-topic-") {
            let (topic, connector) = rest.split_once(":connector-")?;
            return Some(StatusKey::Topic {
                topic: topic.to_owned(),
                connector: connector.to_owned(),
            });
        }
        None
    }
}

/// A connector or task status record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusRecord {
    /// State.
    pub state: State,
    /// Error trace of a FAILED state.
    pub trace: Option<String>,
    /// `host:port` of the worker that owns it.
    pub worker_id: String,
    /// Generation of the assignment.
    pub generation: i32,
    /// The connector's or task's plugin version (Connect 4.x); `None` when unknown.
    pub version: Option<String>,
}

impl StatusRecord {
    /// `{"state":..,"trace":..,"worker_id":..,"generation":..,"version":..}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut m = Map::new();
        m.insert("state".into(), Json::from(self.state.as_str()));
        m.insert(
            "trace".into(),
            self.trace.clone().map_or(Json::Null, Json::String),
        );
        m.insert("worker_id".into(), Json::from(self.worker_id.as_str()));
        m.insert("generation".into(), Json::from(self.generation));
        m.insert(
            "version".into(),
            self.version.clone().map_or(Json::Null, Json::String),
        );
        serde_json::to_vec(&Json::Object(m)).expect("JSON maps always serialize")
    }
    /// Reads a status record.
    pub fn decode(key: &str, bytes: &[u8]) -> Result<StatusRecord, FormatError> {
        let v: Json =
            serde_json::from_slice(bytes).map_err(|e| format_error(key, format!("not JSON: {e}")))?;
        let state = v
            .get("state")
            .and_then(Json::as_str)
            .and_then(State::parse)
            .ok_or_else(|| format_error(key, "no valid \"state\""))?;
        Ok(StatusRecord {
            state,
            trace: v.get("trace").and_then(Json::as_str).map(str::to_owned),
            worker_id: v
                .get("worker_id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_owned(),
            generation: v.get("generation").and_then(Json::as_i64).unwrap_or(0) as i32,
            version: v.get("version").and_then(Json::as_str).map(str::to_owned),
        })
    }
}

/// `status-topic-...` value: `{"topic":{"name","connector","task","discoverTimestamp"}}`.
pub fn encode_topic_status(topic: &str, connector: &str, task: u32, discover_timestamp_ms: i64) -> Vec<u8> {
    let mut inner = Map::new();
    inner.insert("name".into(), Json::from(topic));
    inner.insert("connector".into(), Json::from(connector));
    inner.insert("task".into(), Json::from(task));
    inner.insert("discoverTimestamp".into(), Json::from(discover_timestamp_ms));
    let mut m = Map::new();
    m.insert("topic".into(), Json::Object(inner));
    serde_json::to_vec(&Json::Object(m)).expect("JSON maps always serialize")
}

/// Offsets-topic key: `["connector",{partition}]`, compact, partition keys in their order.
pub fn encode_offset_key(connector: &str, partition: &OffsetMap) -> Vec<u8> {
    let mut out = Vec::with_capacity(connector.len() + 64);
    out.push(b'[');
    serde_json::to_writer(&mut out, connector).expect("strings always serialize");
    out.push(b',');
    serde_json::to_writer(&mut out, partition).expect("JSON maps always serialize");
    out.push(b']');
    out
}

/// Offsets-topic value: the offset map, compact.
pub fn encode_offset_value(offset: &OffsetMap) -> Vec<u8> {
    serde_json::to_vec(offset).expect("JSON maps always serialize")
}

/// Reads an offsets-topic key. Keys not in Connect's form give `None` (they are skipped, as upstream does).
pub fn decode_offset_key(bytes: &[u8]) -> Option<(String, OffsetMap)> {
    let v: Json = serde_json::from_slice(bytes).ok()?;
    let arr = v.as_array()?;
    if arr.len() != 2 {
        return None;
    }
    let name = arr[0].as_str()?.to_owned();
    let partition = arr[1].as_object()?.clone();
    Some((name, partition))
}

/// Reads an offsets-topic value; `None` bytes are a tombstone (offset reset).
pub fn decode_offset_value(bytes: Option<&[u8]>) -> Option<OffsetMap> {
    let v: Json = serde_json::from_slice(bytes?).ok()?;
    v.as_object().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connect's `putSessionKey`: a SESSION_KEY_V0 struct through the schemaless
    /// JsonConverter, fields in schema order, the key base64 (java.util.Base64) encoded.
    #[test]
    fn session_key_record_is_connects_session_key_v0_without_schema() {
        let record = ConfigRecord::SessionKey {
            key: (0u8..32).collect(),
            algorithm: "HmacSHA256".into(),
            creation_timestamp: 1_764_968_400_000,
        };
        assert_eq!(record.key(), "session-key");
        let value = record.value().unwrap();
        assert_eq!(
            String::from_utf8(value.clone()).unwrap(),
            r#"{"key":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","algorithm":"HmacSHA256","creation-timestamp":1764968400000}"#
        );
        assert_eq!(ConfigRecord::decode("session-key", Some(&value)).unwrap(), record);
        assert!(ConfigRecord::decode(
            "session-key",
            Some(br#"{"key":"!!","algorithm":"x","creation-timestamp":1}"#)
        )
        .is_err());
    }

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    // Expected bytes below are what Kafka Connect 3.x writes (JsonConverter, schemas.enable=false,
    // from the struct schemas in KafkaConfigBackingStore / KafkaStatusBackingStore).

    #[test]
    fn connector_config_record_bytes() {
        let r = ConfigRecord::Connector {
            name: "local-file-source".into(),
            config: Some(cfg(&[
                ("connector.class", "FileStreamSource"),
                ("tasks.max", "1"),
                ("file", "/tmp/in.txt"),
                ("topic", "connect-test"),
                ("name", "local-file-source"),
            ])),
        };
        assert_eq!(r.key(), "connector-local-file-source");
        assert_eq!(
            String::from_utf8(r.value().unwrap()).unwrap(),
            r#"{"properties":{"connector.class":"FileStreamSource","tasks.max":"1","file":"/tmp/in.txt","topic":"connect-test","name":"local-file-source"}}"#
        );
        let back = ConfigRecord::decode(&r.key(), r.value().as_deref()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn task_and_commit_records() {
        let t = ConfigRecord::Task {
            connector: "my-conn".into(),
            task: 0,
            config: Some(cfg(&[("task.class", "X")])),
        };
        assert_eq!(t.key(), "task-my-conn-0");
        assert_eq!(
            ConfigRecord::decode("task-my-conn-0", t.value().as_deref()).unwrap(),
            t
        );
        let c = ConfigRecord::Commit {
            connector: "my-conn".into(),
            tasks: 1,
        };
        assert_eq!(c.key(), "commit-my-conn");
        assert_eq!(c.value().unwrap(), br#"{"tasks":1}"#);
    }

    #[test]
    fn target_state_records_write_legacy_and_v2() {
        let stopped = ConfigRecord::TargetState {
            connector: "c".into(),
            state: Some(TargetState::Stopped),
        };
        assert_eq!(stopped.key(), "target-state-c");
        assert_eq!(
            stopped.value().unwrap(),
            br#"{"state":"PAUSED","state.v2":"STOPPED"}"#
        );
        let started = ConfigRecord::TargetState {
            connector: "c".into(),
            state: Some(TargetState::Started),
        };
        assert_eq!(
            started.value().unwrap(),
            br#"{"state":"STARTED","state.v2":"STARTED"}"#
        );
        // A record from a pre-3.5 worker has only "state".
        assert_eq!(
            ConfigRecord::decode("target-state-c", Some(br#"{"state":"PAUSED"}"#)).unwrap(),
            ConfigRecord::TargetState {
                connector: "c".into(),
                state: Some(TargetState::Paused)
            }
        );
        assert_eq!(
            ConfigRecord::decode("target-state-c", None).unwrap(),
            ConfigRecord::TargetState {
                connector: "c".into(),
                state: None
            }
        );
    }

    #[test]
    fn restart_record_bytes() {
        let r = ConfigRecord::Restart {
            connector: "c".into(),
            include_tasks: true,
            only_failed: false,
        };
        assert_eq!(r.key(), "restart-connector-c");
        assert_eq!(
            r.value().unwrap(),
            br#"{"include-tasks":true,"only-failed":false}"#
        );
    }

    #[test]
    fn status_record_bytes() {
        let s = StatusRecord {
            state: State::Running,
            trace: None,
            worker_id: "127.0.0.1:8083".into(),
            generation: 3,
            version: Some("4.3.0".into()),
        };
        assert_eq!(
            s.encode(),
            br#"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":3,"version":"4.3.0"}"#
        );
        assert_eq!(StatusRecord::decode("k", &s.encode()).unwrap(), s);
        // Connect 4.x writes a null version when it has none; Connect 3.x records have no key.
        let unknown = StatusRecord { version: None, ..s };
        assert!(unknown.encode().ends_with(br#""generation":3,"version":null}"#));
        let v3 = br#"{"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:8083","generation":3}"#;
        assert_eq!(StatusRecord::decode("k", v3).unwrap(), unknown);
        assert_eq!(StatusKey::Task("a-b".into(), 2).encode(), "status-task-a-b-2");
        assert_eq!(
            StatusKey::decode("status-task-a-b-2"),
            Some(StatusKey::Task("a-b".into(), 2))
        );
        assert_eq!(
            encode_topic_status("t", "c", 0, 1700000000000),
            br#"{"topic":{"name":"t","connector":"c","task":0,"discoverTimestamp":1700000000000}}"#
        );
    }

    #[test]
    fn offset_key_is_jackson_compact_in_map_order() {
        let mut partition = OffsetMap::new();
        partition.insert("server".into(), "dbserver1".into());
        assert_eq!(
            encode_offset_key("inventory-connector", &partition),
            br#"["inventory-connector",{"server":"dbserver1"}]"#
        );
        let mut offset = OffsetMap::new();
        offset.insert("lsn_proc".into(), 37094192i64.into());
        offset.insert("lsn".into(), 37094192i64.into());
        offset.insert("txId".into(), 750i64.into());
        offset.insert("ts_usec".into(), 1700000000123456i64.into());
        assert_eq!(
            encode_offset_value(&offset),
            br#"{"lsn_proc":37094192,"lsn":37094192,"txId":750,"ts_usec":1700000000123456}"#
        );
        let (name, p) = decode_offset_key(br#"["inventory-connector",{"server":"dbserver1"}]"#).unwrap();
        assert_eq!(name, "inventory-connector");
        assert_eq!(p, partition);
        assert!(decode_offset_key(b"not json").is_none());
    }
}
