//! Notifications about incremental snapshots (`notification.enabled.channels`), as
//! Debezium's `IncrementalSnapshotNotificationService` sends them: to the log (`log`)
//! and as records on `notification.sink.topic.name` (`sink`).

use std::sync::{Arc, OnceLock};

use ferry_core::java::collections::{hashmap_copy_capacity, hashmap_iteration_order_from, map_to_string};
use ferry_core::{ConfigMap, OffsetMap, Record, Schema, Struct, Value};
use tracing::{info, warn};

/// `aggregate_type` of incremental snapshot notifications.
pub const INCREMENTAL_SNAPSHOT: &str = "Incremental Snapshot";
/// `aggregate_type` of initial snapshot notifications.
pub const INITIAL_SNAPSHOT: &str = "Initial Snapshot";

/// Where notifications go.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NotificationSettings {
    /// `log` is enabled.
    pub log: bool,
    /// `sink` is enabled: the topic (`notification.sink.topic.name`).
    pub sink_topic: Option<String>,
}

impl NotificationSettings {
    /// Reads `notification.enabled.channels` and `notification.sink.topic.name`; `jmx`
    /// (not served) is logged and skipped.
    pub fn from_config(cfg: &ConfigMap) -> NotificationSettings {
        let channels: Vec<String> = cfg
            .get("notification.enabled.channels")
            .map(|s| {
                s.split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut out = NotificationSettings::default();
        for c in channels {
            match c.as_str() {
                "log" => out.log = true,
                "sink" => {
                    out.sink_topic = cfg
                        .get("notification.sink.topic.name")
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty());
                    if out.sink_topic.is_none() {
                        warn!("notification.enabled.channels has 'sink' but notification.sink.topic.name is not set: no notification records");
                    }
                }
                other => warn!(
                    channel = other,
                    "notification channel not served by Ferry; skipped"
                ),
            }
        }
        out
    }

    /// Whether any channel is on.
    pub fn enabled(&self) -> bool {
        self.log || self.sink_topic.is_some()
    }
}

/// One notification.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The snapshot's correlation id (the signal's id), or a random UUID.
    pub id: String,
    /// [`INCREMENTAL_SNAPSHOT`] or [`INITIAL_SNAPSHOT`].
    pub aggregate_type: &'static str,
    /// `STARTED`, `IN_PROGRESS`, `TABLE_SCAN_COMPLETED`, `COMPLETED`, `PAUSED`, `RESUMED`, `ABORTED`.
    pub kind: &'static str,
    /// The additional data, in Java `HashMap` order.
    pub additional_data: Vec<(String, String)>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
}

impl Notification {
    /// A notification of `kind` whose additional data is `data` (Debezium's `Map.of`)
    /// copied into a `HashMap` with `connector_name` added, as Debezium builds it.
    pub fn new(id: String, kind: &'static str, data: Vec<(&'static str, String)>, connector: &str) -> Self {
        let capacity = hashmap_copy_capacity(data.len());
        let mut entries: Vec<(String, String)> = data.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        entries.push(("connector_name".into(), connector.to_string()));
        Notification {
            id,
            aggregate_type: INCREMENTAL_SNAPSHOT,
            kind,
            additional_data: hashmap_iteration_order_from(entries, capacity),
            timestamp: chrono::Utc::now().timestamp_millis(),
        }
    }

    /// An initial snapshot notification (`STARTED`, `IN_PROGRESS`, `TABLE_SCAN_COMPLETED`,
    /// `COMPLETED`, `SKIPPED`) with a random id, `data` and `connector_name`, as Debezium's
    /// `InitialSnapshotNotificationService` builds it.
    pub fn initial(kind: &'static str, data: Vec<(&'static str, String)>, connector: &str) -> Self {
        Notification {
            aggregate_type: INITIAL_SNAPSHOT,
            ..Notification::new(uuid::Uuid::now_v7().to_string(), kind, data, connector)
        }
    }

    /// The log channel's line: `Notification.toString` after Debezium's prefix.
    pub fn log_line(&self) -> String {
        format!(
            "[Notification Service]  {{id='{}', aggregateType='{}', type='{}', additionalData={}, timestamp={}}}",
            self.id,
            self.aggregate_type,
            self.kind,
            map_to_string(self.additional_data.iter().map(|(k, v)| (k, v))),
            self.timestamp
        )
    }

    /// The sink channel's record on `topic` (no headers, as Debezium's
    /// `SinkNotificationChannel` builds it), carrying `offset`.
    pub fn record(&self, topic: &str, partition: Arc<OffsetMap>, offset: Arc<OffsetMap>) -> Record {
        let key = Struct::from_values(key_schema().clone(), vec![Value::String(self.id.clone())])
            .expect("notification key");
        let data = Value::Map(
            self.additional_data
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), Value::String(v.clone())))
                .collect(),
        );
        let value = Struct::from_values(
            value_schema().clone(),
            vec![
                Value::String(self.id.clone()),
                Value::String(self.kind.to_string()),
                Value::String(self.aggregate_type.to_string()),
                data,
                Value::Int64(self.timestamp),
            ],
        )
        .expect("notification value");
        Record::new(topic, Some(value_schema().clone()), Value::Struct(value))
            .with_key(Some(key_schema().clone()), Value::Struct(key))
            .with_source_position(partition, offset)
    }

    /// Sends it to the enabled channels: logs it, and returns the sink record if any.
    pub fn send(
        &self,
        settings: &NotificationSettings,
        partition: Arc<OffsetMap>,
        offset: Arc<OffsetMap>,
    ) -> Option<Record> {
        if settings.log {
            info!("{}", self.log_line());
        }
        settings
            .sink_topic
            .as_deref()
            .map(|topic| self.record(topic, partition, offset))
    }
}

/// `io.debezium.connector.common.NotificationKey`.
pub fn key_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.NotificationKey")
            .version(1)
            .field("id", Schema::string())
            .build()
    })
}

/// `io.debezium.connector.common.Notification`.
pub fn value_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.Notification")
            .version(1)
            .field("id", Schema::string())
            .field("type", Schema::string())
            .field("aggregate_type", Schema::string())
            .field(
                "additional_data",
                Schema::map(Schema::string(), Schema::string()).optional().build(),
            )
            .field("timestamp", Schema::int64())
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: &Notification) -> Vec<&str> {
        n.additional_data.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// Orders checked against OpenJDK 17 (`new HashMap<>(Map.of(...))`, then
    /// `put("connector_name", ...)`). `data_collections` shares a bucket with `status` and
    /// with `last_processed_key`, so
    /// Java's order of the two follows `Map.of`'s, which changes with every JVM run
    /// (checked: 3 of 4 runs put `status` first); Ferry keeps Debezium's argument order.
    #[test]
    fn additional_data_follows_the_java_hashmap_debezium_fills() {
        let n = Notification::new("i".into(), "STARTED", vec![("data_collections", "x".into())], "c");
        assert_eq!(keys(&n), ["connector_name", "data_collections"]);
        let n = Notification::new(
            "i".into(),
            "TABLE_SCAN_COMPLETED",
            vec![
                ("data_collections", "x".into()),
                ("scanned_collection", "y".into()),
                ("total_rows_scanned", "1".into()),
                ("status", "SUCCEEDED".into()),
            ],
            "c",
        );
        assert_eq!(
            keys(&n),
            [
                "scanned_collection",
                "connector_name",
                "total_rows_scanned",
                "data_collections",
                "status"
            ]
        );
        let n = Notification::new(
            "i".into(),
            "IN_PROGRESS",
            vec![
                ("data_collections", "x".into()),
                ("current_collection_in_progress", "y".into()),
                ("maximum_key", "1".into()),
                ("last_processed_key", "2".into()),
            ],
            "c",
        );
        assert_eq!(
            keys(&n),
            [
                "current_collection_in_progress",
                "connector_name",
                "maximum_key",
                "data_collections",
                "last_processed_key"
            ]
        );
        let n = Notification::new("i".into(), "COMPLETED", vec![], "c");
        assert_eq!(keys(&n), ["connector_name"]);
        assert!(n.log_line().starts_with(
            "[Notification Service]  {id='i', aggregateType='Incremental Snapshot', type='COMPLETED', additionalData={connector_name=c}, timestamp="
        ));
    }

    #[test]
    fn channels_are_read_as_debezium_names_them() {
        let mut m = ConfigMap::new();
        assert!(!NotificationSettings::from_config(&m).enabled());
        m.insert("notification.enabled.channels".into(), "sink, log,jmx".into());
        let s = NotificationSettings::from_config(&m);
        assert!(s.log);
        assert_eq!(s.sink_topic, None, "sink without a topic name");
        m.insert(
            "notification.sink.topic.name".into(),
            "io.debezium.notification".into(),
        );
        let s = NotificationSettings::from_config(&m);
        assert_eq!(s.sink_topic.as_deref(), Some("io.debezium.notification"));
    }
}
