//! What must differ between the two runtimes, and nothing else, made equal before the diff.
//! Each rule says why; docs/compatibility.md lists the same rules.

use serde_json::Value;

/// One side's facts that differ by construction: where its worker listens, and names that
/// must differ because both runtimes share one database (replication slots, publications).
#[derive(Clone, Debug)]
pub struct Side {
    /// `(text, placeholder)`: `text` inside any string becomes `placeholder`.
    pub aliases: Vec<(String, &'static str)>,
}

impl Side {
    /// A side whose worker listens on `127.0.0.1:port`.
    pub fn new(port: u16) -> Side {
        Side {
            aliases: vec![(format!("127.0.0.1:{port}"), "<worker>")],
        }
    }

    /// Also replaces `text` by `placeholder` (e.g. this side's slot name by `<slot>`).
    pub fn alias(&mut self, text: impl Into<String>, placeholder: &'static str) {
        self.aliases.push((text.into(), placeholder));
    }

    /// `s` with every alias replaced.
    pub fn replace(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (text, placeholder) in &self.aliases {
            if out.contains(text.as_str()) {
                out = out.replace(text.as_str(), placeholder);
            }
        }
        out
    }
}

/// The rules, for the report and the docs: `(what, why)`.
pub const RULES: &[(&str, &str)] = &[
    (
        "`worker_id` values and the worker's `127.0.0.1:PORT` inside any string become `<worker>`",
        "each runtime's REST listener has its own free port",
    ),
    (
        "each side's replication slot and publication names become `<slot>` and `<publication>`",
        "both runtimes stream from one database, so that they see the same transactions, LSNs and ids",
    ),
    (
        "the envelope's `ts_ms`, `ts_us` and `ts_ns` (processing time) become `<time>`, also in an envelope Flatten flattened (`op` beside `source_*` fields)",
        "when each runtime processed the event; the source block's times (commit time) are compared",
    ),
    (
        "`commit` and `kafka_cluster_id` of `GET /` become `<commit>` and `<cluster>`",
        "the build's commit id and each broker's random cluster id",
    ),
    (
        "a `trace` keeps its first line only",
        "Java stack frames cannot match Rust's; the exception class and message on the first line must",
    ),
    (
        "in snapshot events (`op: r`), the source block's `ts_ms`, `ts_us`, `ts_ns`, `lsn`, `txId` and `sequence` become `<snapshot>` (as `source_ts_ms`, ... in an envelope Flatten flattened)",
        "each runtime takes its own snapshot, at its own moment and LSN; streamed events carry the same commit's values on both",
    ),
    (
        "a notification's `timestamp` (`io.debezium.connector.common.Notification`) becomes `<time>`, its `additional_data` entries are put in key order",
        "the wall-clock time the notification was sent; Debezium copies a `Map.of` into a `HashMap`, so keys sharing a bucket (`status`, `data_collections`) come in an order that changes with every JVM run",
    ),
    (
        "an initial snapshot notification's `id` (key and value) becomes `<uuid>`",
        "Debezium gives each one a random UUID",
    ),
    (
        "the `__debezium.context.runId` header becomes `<run>`",
        "a random id per connector run",
    ),
    (
        "in the status topic, `generation` and `discoverTimestamp` become `<generation>` and `<time>`",
        "the worker group's generation counts its rebalances; topic discovery time is wall-clock time",
    ),
    (
        "the config topic's `session-key` record: `key` becomes `<key>` and `creation-timestamp` `<time>`",
        "each leader generates its own random key at its own moment (KIP-507)",
    ),
    (
        "a setting definition's non-empty `documentation` becomes `<documented>`",
        "Ferry documents every setting in its own words (Connect's and Debezium's prose is not copied); an empty one still differs",
    ),
    (
        "`last_modified` of a logger becomes `<time>` when it is a number",
        "the wall-clock time of the PUT",
    ),
];

/// Applies [`RULES`] to `v`, an answer or record of `side`.
pub fn normalise(v: &mut Value, side: &Side) {
    match v {
        Value::Object(map) => {
            let is_setting_definition = map.contains_key("importance") && map.contains_key("display_name");
            for (k, x) in map.iter_mut() {
                if is_setting_definition && k == "documentation" && x.as_str().is_some_and(|d| !d.is_empty())
                {
                    *x = Value::from("<documented>");
                    continue;
                }
                match (k.as_str(), &*x) {
                    ("worker_id", Value::String(_)) => *x = Value::from("<worker>"),
                    ("trace", Value::String(s)) => {
                        *x = Value::from(s.lines().next().unwrap_or_default().trim_end().to_owned())
                    }
                    ("last_modified", Value::Number(_)) => *x = Value::from("<time>"),
                    _ => normalise(x, side),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| normalise(x, side)),
        Value::String(s) => {
            let replaced = side.replace(s);
            if replaced != *s {
                *s = replaced;
            }
        }
        _ => {}
    }
}

/// The processing-time rule for a change event's value (`{schema, payload}` or a bare
/// payload): the envelope's `ts_ms`, `ts_us`, `ts_ns`.
pub fn normalise_envelope_times(value: &mut Value) {
    let payload = if value.get("payload").is_some() && value.get("schema").is_some() {
        &mut value["payload"]
    } else {
        value
    };
    if let Some(map) = payload.as_object_mut() {
        let flattened_source = map.keys().any(|k| k.starts_with("source_"));
        if map.contains_key("op") && (map.contains_key("source") || flattened_source) {
            for k in ["ts_ms", "ts_us", "ts_ns"] {
                if let Some(v) = map.get_mut(k) {
                    if v.is_number() {
                        *v = Value::from("<time>");
                    }
                }
            }
        }
    }
}

/// A Debezium notification's `timestamp` (`io.debezium.connector.common.Notification`),
/// and its `additional_data` entries in key order.
pub fn normalise_notification_time(value: &mut Value) {
    let payload = if value.get("payload").is_some() && value.get("schema").is_some() {
        &mut value["payload"]
    } else {
        value
    };
    if let Some(map) = payload
        .as_object_mut()
        .filter(|m| m.contains_key("aggregate_type") && m.contains_key("additional_data"))
    {
        if let Some(t) = map.get_mut("timestamp").filter(|t| t.is_number()) {
            *t = Value::from("<time>");
        }
        if let Some(data) = map.get_mut("additional_data").and_then(Value::as_object_mut) {
            let mut entries: Vec<(String, Value)> = std::mem::take(data).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            data.extend(entries);
        }
    }
}

/// The JSON converter's `payload` when schemas are on, else the value itself.
fn payload_mut(v: &mut Value) -> &mut Value {
    if v.get("payload").is_some() && v.get("schema").is_some() {
        &mut v["payload"]
    } else {
        v
    }
}

/// An initial snapshot notification's random `id` (in its key and value) becomes `<uuid>`.
pub fn normalise_initial_snapshot_notification_id(key: &mut Value, value: &mut Value) {
    let initial =
        payload_mut(value).get("aggregate_type").and_then(Value::as_str) == Some("Initial Snapshot");
    if !initial {
        return;
    }
    for v in [payload_mut(value), payload_mut(key)] {
        if let Some(m) = v.as_object_mut().filter(|m| m.contains_key("id")) {
            m.insert("id".into(), Value::from("<uuid>"));
        }
    }
}

/// Each runtime's own snapshot position in a snapshot event's source block.
pub fn normalise_snapshot_position(value: &mut Value) {
    let payload = if value.get("payload").is_some() && value.get("schema").is_some() {
        &mut value["payload"]
    } else {
        value
    };
    // A flattened snapshot row (ExtractNewRecordState with `add.fields`): `__op` is `r`.
    if let Some(row) = payload
        .as_object_mut()
        .filter(|m| m.get("__op").and_then(Value::as_str) == Some("r"))
    {
        for k in [
            "__lsn",
            "__source_ts_ms",
            "__source_ts_us",
            "__source_ts_ns",
            "__txId",
            "__source_sequence",
        ] {
            if let Some(v) = row.get_mut(k).filter(|v| !v.is_null()) {
                *v = Value::from("<snapshot>");
            }
        }
        return;
    }
    if payload.get("op").and_then(Value::as_str) != Some("r") {
        return;
    }
    // An envelope Flatten flattened with delimiter `_`: `source_lsn`, ...
    if let Some(row) = payload.as_object_mut().filter(|m| !m.contains_key("source")) {
        for k in ["ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence"] {
            if let Some(v) = row.get_mut(&format!("source_{k}")).filter(|v| !v.is_null()) {
                *v = Value::from("<snapshot>");
            }
        }
        return;
    }
    if let Some(source) = payload.get_mut("source").and_then(Value::as_object_mut) {
        for k in ["ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence"] {
            if let Some(v) = source.get_mut(k) {
                if !v.is_null() {
                    *v = Value::from("<snapshot>");
                }
            }
        }
    }
}

/// Rules for internal-topic records, given as `{key: value}`: status records' `generation`
/// and `discoverTimestamp`, the session key's `key` and `creation-timestamp`.
pub fn normalise_internal_record(records: &mut Value) {
    let Some(map) = records.as_object_mut() else {
        return;
    };
    if let Some(session) = map.get_mut("session-key").and_then(Value::as_object_mut) {
        if session.get("key").is_some_and(Value::is_string) {
            session.insert("key".into(), Value::from("<key>"));
        }
        if session.get("creation-timestamp").is_some_and(Value::is_number) {
            session.insert("creation-timestamp".into(), Value::from("<time>"));
        }
    }
    for value in map.values_mut() {
        if let Some(generation) = value.get_mut("generation") {
            if generation.is_number() {
                *generation = Value::from("<generation>");
            }
        }
        if let Some(t) = value
            .get_mut("topic")
            .and_then(|t| t.get_mut("discoverTimestamp"))
        {
            if t.is_number() {
                *t = Value::from("<time>");
            }
        }
    }
}

/// The root-level rule for `GET /`.
pub fn normalise_server_info(v: &mut Value) {
    if let Some(map) = v.as_object_mut() {
        if map.contains_key("commit") {
            map.insert("commit".into(), Value::from("<commit>"));
        }
        if map.contains_key("kafka_cluster_id") {
            map.insert("kafka_cluster_id".into(), Value::from("<cluster>"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn worker_ids_ports_and_traces_are_normalised_nothing_else() {
        let mut side = Side::new(40123);
        side.alias("ferry_slot", "<slot>");
        let mut v = json!({
            "name": "a",
            "connector": {"state": "FAILED", "worker_id": "127.0.0.1:40123", "trace": "org.X: boom\n\tat a.b(C.java:1)"},
            "message": "forwarded to http://127.0.0.1:40123/connectors",
            "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:40123"}],
            "other": "127.0.0.1:9",
            "config": {"slot.name": "ferry_slot"}
        });
        normalise(&mut v, &side);
        assert_eq!(
            v,
            json!({
                "name": "a",
                "connector": {"state": "FAILED", "worker_id": "<worker>", "trace": "org.X: boom"},
                "message": "forwarded to http://<worker>/connectors",
                "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "<worker>"}],
                "other": "127.0.0.1:9",
                "config": {"slot.name": "<slot>"}
            })
        );
    }

    #[test]
    fn only_the_envelopes_processing_times_are_normalised() {
        let mut v =
            json!({"schema": {}, "payload": {"op": "c", "source": {"ts_ms": 5}, "ts_ms": 7, "ts_us": 7000}});
        normalise_envelope_times(&mut v);
        assert_eq!(
            v,
            json!({"schema": {}, "payload": {"op": "c", "source": {"ts_ms": 5}, "ts_ms": "<time>", "ts_us": "<time>"}})
        );
        let mut outbox = json!({"ts_ms": 7, "id": 1});
        normalise_envelope_times(&mut outbox);
        assert_eq!(outbox["ts_ms"], 7);
    }

    #[test]
    fn snapshot_positions_are_normalised_in_envelopes_and_flattened_rows() {
        let mut r = json!({"op": "r", "source": {"lsn": 5, "txId": 7, "ts_ms": 1, "db": "d"}});
        normalise_snapshot_position(&mut r);
        assert_eq!(
            r,
            json!({"op": "r", "source": {"lsn": "<snapshot>", "txId": "<snapshot>", "ts_ms": "<snapshot>", "db": "d"}})
        );
        let mut c = json!({"op": "c", "source": {"lsn": 5}});
        normalise_snapshot_position(&mut c);
        assert_eq!(c["source"]["lsn"], 5);
        let mut flattened = json!({"op": "r", "source_lsn": 5, "source_db": "d", "ts_ms": 2});
        normalise_snapshot_position(&mut flattened);
        normalise_envelope_times(&mut flattened);
        assert_eq!(
            flattened,
            json!({"op": "r", "source_lsn": "<snapshot>", "source_db": "d", "ts_ms": "<time>"})
        );
        let mut flat = json!({"id": 1, "__op": "r", "__lsn": 9, "__source_ts_ms": 3});
        normalise_snapshot_position(&mut flat);
        assert_eq!(
            flat,
            json!({"id": 1, "__op": "r", "__lsn": "<snapshot>", "__source_ts_ms": "<snapshot>"})
        );
    }

    #[test]
    fn setting_documentation_is_compared_for_presence_only() {
        let side = Side::new(1);
        let mut v = json!([
            {"name": "a", "importance": "HIGH", "display_name": "A", "documentation": "Words."},
            {"name": "b", "importance": "LOW", "display_name": "B", "documentation": ""},
            {"name": "c", "documentation": "not a definition"}
        ]);
        normalise(&mut v, &side);
        assert_eq!(v[0]["documentation"], "<documented>");
        assert_eq!(v[1]["documentation"], "");
        assert_eq!(v[2]["documentation"], "not a definition");
    }

    #[test]
    fn server_info_keeps_the_version() {
        let mut v = json!({"version": "4.3.0", "commit": "abc", "kafka_cluster_id": "xyz"});
        normalise_server_info(&mut v);
        assert_eq!(
            v,
            json!({"version": "4.3.0", "commit": "<commit>", "kafka_cluster_id": "<cluster>"})
        );
    }
}
