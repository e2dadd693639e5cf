//! What must differ between the two runtimes, and nothing else, made equal before the diff.
//! Each rule says why; docs/compatibility.md lists the same rules.

use serde_json::Value;

/// One side's facts that differ by construction: where its worker listens.
#[derive(Clone, Debug)]
pub struct Side {
    /// `127.0.0.1:PORT` of its REST listener (each runtime has its own port).
    pub worker: String,
}

/// The rules, for the report and the docs: `(what, why)`.
pub const RULES: &[(&str, &str)] = &[
    (
        "`worker_id` values and the worker's `127.0.0.1:PORT` inside any string become `<worker>`",
        "each runtime's REST listener has its own free port",
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
        "`last_modified` of a logger becomes `<time>` when it is a number",
        "the wall-clock time of the PUT",
    ),
];

/// Applies [`RULES`] to `v`, an answer or record of `side`.
pub fn normalise(v: &mut Value, side: &Side) {
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
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
        Value::String(s) if s.contains(&side.worker) => *s = s.replace(&side.worker, "<worker>"),
        _ => {}
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
        let side = Side {
            worker: "127.0.0.1:40123".into(),
        };
        let mut v = json!({
            "name": "a",
            "connector": {"state": "FAILED", "worker_id": "127.0.0.1:40123", "trace": "org.X: boom\n\tat a.b(C.java:1)"},
            "message": "forwarded to http://127.0.0.1:40123/connectors",
            "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:40123"}],
            "other": "127.0.0.1:9"
        });
        normalise(&mut v, &side);
        assert_eq!(
            v,
            json!({
                "name": "a",
                "connector": {"state": "FAILED", "worker_id": "<worker>", "trace": "org.X: boom"},
                "message": "forwarded to http://<worker>/connectors",
                "tasks": [{"id": 0, "state": "RUNNING", "worker_id": "<worker>"}],
                "other": "127.0.0.1:9"
            })
        );
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
