//! Records on a topic of each broker, compared one by one: partition, key, value and
//! headers, read as JSON where they are JSON.

use std::time::{Duration, Instant};

use ferry_test_support::kafka::{ConsumedRecord, Tansu};
use serde_json::Value;

use crate::diff::{diff, Difference};
use crate::normalise::{
    normalise, normalise_envelope_times, normalise_initial_snapshot_notification_id,
    normalise_internal_record, normalise_notification_time, normalise_snapshot_position,
};
use crate::pair::Pair;

/// Bytes as JSON when they parse, else as a JSON string (lossy UTF-8); `null` when absent.
fn json_of(bytes: Option<&[u8]>) -> Value {
    match bytes {
        None => Value::Null,
        Some(b) => serde_json::from_slice(b)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned())),
    }
}

/// One record as compared: `{partition, key, value, headers: [[name, value], ...]}`.
pub fn record_json(r: &ConsumedRecord) -> Value {
    let mut value = json_of(r.value.as_deref());
    normalise_envelope_times(&mut value);
    normalise_snapshot_position(&mut value);
    normalise_notification_time(&mut value);
    let mut key = json_of(r.key.as_deref());
    normalise_initial_snapshot_notification_id(&mut key, &mut value);
    serde_json::json!({
        "partition": r.partition,
        "key": key,
        "value": value,
        "headers": r.headers.iter().map(|(k, v)| {
            let v = if k == "__debezium.context.runId" && v.is_some() { Value::from("<run>") } else { json_of(v.as_deref()) };
            serde_json::json!([k, v])
        }).collect::<Vec<_>>(),
    })
}

/// Reads `topic` on `broker` until `expected` records arrived (or 90 s passed), then until
/// it stays quiet for a second (to catch extra records); in partition and offset order.
pub fn read_topic(broker: &Tansu, topic: &str, expected: usize) -> Vec<ConsumedRecord> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut records = broker.consume(topic, expected, Duration::from_secs(90));
    while records.len() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        records = broker.consume(topic, expected, Duration::from_secs(5));
    }
    let more = broker.consume_until_idle(topic, Duration::from_secs(1));
    if more.len() > records.len() {
        records = more;
    }
    // Partitions are read in parallel: their interleaving is arrival order, not data.
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

impl Pair {
    /// Compares `topic` on both brokers record by record, after `expected` records arrived
    /// on each; returns how many records each side had.
    pub fn compare_topic(&mut self, step: &str, topic: &str, expected: usize) -> (usize, usize) {
        let ferry = read_topic(&self.ferry.broker, topic, expected);
        let connect = read_topic(&self.connect.broker, topic, expected);
        let as_json = |records: &[ConsumedRecord], side| -> Vec<Value> {
            records
                .iter()
                .map(|r| {
                    let mut v = record_json(r);
                    normalise(&mut v, side);
                    v
                })
                .collect()
        };
        let f = as_json(&ferry, &self.ferry.side);
        let c = as_json(&connect, &self.connect.side);
        if std::env::var_os("FERRY_DIFF_DUMP").is_some() {
            for (who, records) in [("ferry", &f), ("connect", &c)] {
                for r in records.iter() {
                    println!("[dump] {step} {who} {r}");
                }
            }
        }
        let mut found = Vec::new();
        if f.len() != c.len() {
            found.push(Difference {
                path: "(record count)".into(),
                ferry: Some(Value::from(f.len())),
                connect: Some(Value::from(c.len())),
            });
        }
        // Paths name no record number, so that a difference on every record reads as one.
        for (a, b) in f.iter().zip(&c) {
            diff("#", a, b, true, &mut found);
        }
        self.report.records += f.len().min(c.len());
        self.report.add(step, found);
        (f.len(), c.len())
    }
}

/// The last record per key of an internal topic, as a JSON object `{key: value}` in key
/// order (`null` for a tombstone).
pub fn last_per_key(records: &[ConsumedRecord]) -> Value {
    let mut last = std::collections::BTreeMap::new();
    for r in records {
        let key = match json_of(r.key.as_deref()) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        last.insert(key, json_of(r.value.as_deref()));
    }
    Value::Object(last.into_iter().collect())
}

impl Pair {
    /// Compares the last value per key of an internal topic (`PREFIX-configs`, `-offsets`,
    /// `-status`) on both brokers.
    pub fn compare_internal_topic(&mut self, step: &str, suffix: &str) {
        let topic = format!("{}-{suffix}", self.prefix);
        let ferry = self
            .ferry
            .broker
            .consume_until_idle(&topic, Duration::from_secs(2));
        let connect = self
            .connect
            .broker
            .consume_until_idle(&topic, Duration::from_secs(2));
        let (mut f, mut c) = (last_per_key(&ferry), last_per_key(&connect));
        normalise_internal_record(&mut f);
        normalise_internal_record(&mut c);
        normalise(&mut f, &self.ferry.side);
        normalise(&mut c, &self.connect.side);
        let (f, c) = (rekey(f, &self.ferry.side), rekey(c, &self.connect.side));
        let mut found = Vec::new();
        diff("$", &f, &c, true, &mut found);
        self.report.records += ferry.len().min(connect.len());
        self.report.add(step, found);
    }
}

/// Object keys with the side's aliases replaced (keys hold connector names, not ports, but
/// a key may hold a slot name).
fn rekey(v: Value, side: &crate::normalise::Side) -> Value {
    match v {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (side.replace(&k), v)).collect()),
        other => other,
    }
}
