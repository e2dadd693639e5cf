//! Helpers shared by the integration tests: a task driven directly against the
//! private PostgreSQL cluster, with offsets kept in memory.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_converters::JsonConverter;
use ferry_core::serde_json::{self, Value as Json};
use ferry_core::{
    CancellationToken, CommittedOffset, ConfigMap, ConnectError, Converter, OffsetMap, OffsetStorageReader,
    Position, Record, SourceTaskContext, Value,
};
use ferry_postgres::PostgresSourceTask;
use ferry_test_support::postgres::PgCluster;

pub use ferry_core::SourceTask;

/// The offsets "topic": the last offset committed.
#[derive(Default, Clone)]
pub struct MemOffsets(pub Arc<Mutex<Option<OffsetMap>>>);

impl OffsetStorageReader for MemOffsets {
    fn offset(&self, _partition: &OffsetMap) -> Option<OffsetMap> {
        self.0.lock().unwrap().clone()
    }
}

/// A connector configuration for `db`, slot and publication both named `slot`.
pub fn config(pg: &PgCluster, db: &str, slot: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let mut m: ConfigMap = [
        (
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector",
        ),
        ("database.hostname", "127.0.0.1"),
        ("database.user", "postgres"),
        ("database.password", "postgres"),
        ("database.dbname", db),
        ("topic.prefix", "srv"),
        ("plugin.name", "pgoutput"),
        ("slot.name", slot),
        ("publication.name", slot),
        ("status.update.interval.ms", "200"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    m.insert("database.port".into(), pg.port().to_string());
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

/// Starts a task; the error when it does not start.
pub async fn try_start(cfg: &ConfigMap, offsets: &MemOffsets) -> Result<PostgresSourceTask, ConnectError> {
    let mut t = PostgresSourceTask::new();
    t.start(
        cfg,
        SourceTaskContext {
            connector: "pg".into(),
            task: 0,
            offsets: Arc::new(offsets.clone()),
            shutdown: CancellationToken::new(),
        },
    )
    .await?;
    Ok(t)
}

/// Starts a task.
pub async fn start(cfg: &ConfigMap, offsets: &MemOffsets) -> PostgresSourceTask {
    try_start(cfg, offsets).await.expect("task starts")
}

/// Polls until at least `n` records arrived or `timeout` passed.
pub async fn poll_until(t: &mut PostgresSourceTask, n: usize, timeout: Duration) -> Vec<Record> {
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while out.len() < n && Instant::now() < deadline {
        let batch = t.poll().await.expect("poll");
        out.extend(batch);
    }
    out
}

/// Polls for `d`, collecting everything.
pub async fn poll_for(t: &mut PostgresSourceTask, d: Duration) -> Vec<Record> {
    let mut out = Vec::new();
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        out.extend(t.poll().await.expect("poll"));
    }
    out
}

/// Polls until `pred` holds for the records so far, or `timeout` passed.
pub async fn poll_while(
    t: &mut PostgresSourceTask,
    timeout: Duration,
    mut done: impl FnMut(&[Record]) -> bool,
) -> Vec<Record> {
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while !done(&out) && Instant::now() < deadline {
        out.extend(t.poll().await.expect("poll"));
    }
    out
}

/// A struct field by path.
pub fn field<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for p in path {
        cur = cur
            .as_struct()
            .unwrap_or_else(|| panic!("{p}: not a struct: {cur:?}"))
            .get(p)
            .unwrap_or_else(|| panic!("no field {p}"));
    }
    cur
}

/// `op` of a change event; `None` for tombstones and heartbeats.
pub fn op(r: &Record) -> Option<String> {
    match r.value.as_struct().and_then(|s| s.get("op")) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The source offset of a record.
pub fn offset_of(r: &Record) -> Arc<OffsetMap> {
    match &r.position {
        Position::Source { offset, .. } => offset.clone(),
        _ => panic!("no source position"),
    }
}

/// Reports the last record's offset durable (as the runtime does once it is in Kafka).
pub async fn commit_all(t: &mut PostgresSourceTask, recs: &[Record], store: &MemOffsets) {
    if let Some(last) = recs.last() {
        let off = offset_of(last);
        *store.0.lock().unwrap() = Some((*off).clone());
        let Position::Source { partition, .. } = &last.position else {
            panic!()
        };
        t.commit(&[CommittedOffset {
            partition: partition.clone(),
            offset: off,
        }])
        .await
        .unwrap();
    }
}

/// The slot's confirmed_flush_lsn.
pub async fn slot_flush(c: &tokio_postgres::Client, slot: &str) -> String {
    c.query_one(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
        &[&slot],
    )
    .await
    .unwrap()
    .get(0)
}

/// Key and value as JsonConverter (schemas.enable=true) writes them.
pub fn to_json(r: &Record) -> (Option<String>, Option<String>) {
    let conv = JsonConverter::new();
    let k = conv
        .from_connect(&r.topic, r.key_schema.as_ref(), &r.key)
        .expect("key converts")
        .map(|b| String::from_utf8(b).unwrap());
    let v = conv
        .from_connect(&r.topic, r.value_schema.as_ref(), &r.value)
        .expect("value converts")
        .map(|b| String::from_utf8(b).unwrap());
    (k, v)
}

/// Parses JSON text keeping key order and number text.
pub fn parse(s: &str) -> Json {
    serde_json::from_str(s).expect("valid JSON")
}

/// Compact JSON text.
pub fn compact(v: &Json) -> String {
    serde_json::to_string(v).unwrap()
}

/// In a serialized envelope, the schema of field `col` of the `after` struct and its payload value.
pub fn after_column(value_json: &Json, col: &str) -> Option<(String, String)> {
    let fields = value_json["schema"]["fields"].as_array().expect("fields");
    let after = fields
        .iter()
        .find(|f| f["field"] == "after")
        .expect("after field");
    let col_schema = after["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == col)?;
    let payload = &value_json["payload"]["after"][col];
    Some((compact(col_schema), compact(payload)))
}
