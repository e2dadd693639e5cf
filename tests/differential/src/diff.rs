//! A structured diff of two JSON values: every place where they differ, by JSON path.

use serde_json::Value;

/// One place where Ferry's value differs from Kafka Connect's.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// JSON path from the compared root: `$.tasks[0].state`; object keys that are not plain
    /// words are quoted (`$["a.b"]`).
    pub path: String,
    /// Ferry's value there (`None`: absent).
    pub ferry: Option<Value>,
    /// Kafka Connect's value there (`None`: absent).
    pub connect: Option<Value>,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &Option<Value>| match v {
            Some(v) => {
                let s = v.to_string();
                if s.chars().count() > 300 {
                    format!("{}… ({} chars)", s.chars().take(300).collect::<String>(), s.len())
                } else {
                    s
                }
            }
            None => "(absent)".to_owned(),
        };
        write!(
            f,
            "{}: ferry {} | connect {}",
            self.path,
            show(&self.ferry),
            show(&self.connect)
        )
    }
}

fn key_path(parent: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{}]", Value::String(key.to_owned()))
    }
}

/// Every difference between `ferry` and `connect` below `path`. Objects are compared key by
/// key, and also by key order when `ordered` (Jackson's field order is part of the bytes);
/// arrays element by element.
pub fn diff(path: &str, ferry: &Value, connect: &Value, ordered: bool, out: &mut Vec<Difference>) {
    match (ferry, connect) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => diff(&key_path(path, k), va, vb, ordered, out),
                    None => out.push(Difference {
                        path: key_path(path, k),
                        ferry: Some(va.clone()),
                        connect: None,
                    }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(Difference {
                        path: key_path(path, k),
                        ferry: None,
                        connect: Some(vb.clone()),
                    });
                }
            }
            if ordered {
                let common_a: Vec<&String> = a.keys().filter(|k| b.contains_key(*k)).collect();
                let common_b: Vec<&String> = b.keys().filter(|k| a.contains_key(*k)).collect();
                if common_a != common_b {
                    out.push(Difference {
                        path: format!("{path} (key order)"),
                        ferry: Some(Value::from(
                            common_a.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                        )),
                        connect: Some(Value::from(
                            common_b.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                        )),
                    });
                }
            }
        }
        (Value::Array(a), Value::Array(b))
            if identity_of_all(a).is_some() && identity_of_all(b).is_some() =>
        {
            diff_by_identity(path, a, b, ordered, out)
        }
        (Value::Array(a), Value::Array(b)) => {
            for i in 0..a.len().max(b.len()) {
                let p = format!("{path}[{i}]");
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => diff(&p, x, y, ordered, out),
                    (x, y) => out.push(Difference {
                        path: p,
                        ferry: x.cloned(),
                        connect: y.cloned(),
                    }),
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Difference {
            path: path.to_owned(),
            ferry: Some(a.clone()),
            connect: Some(b.clone()),
        }),
    }
}

/// What identifies an element of a list of named things: `field` (fields of a Connect
/// schema), `name` (settings), `class` and `type` (plugins), `definition.name` (validated
/// settings), `id` (tasks).
fn identity(v: &Value) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_owned);
    if let Some(n) = s(&v["field"]) {
        return Some(n);
    }
    if let Some(n) = s(&v["name"]) {
        return Some(n);
    }
    if let (Some(c), Some(t)) = (s(&v["class"]), s(&v["type"])) {
        return Some(format!("{c} {t}"));
    }
    if let Some(n) = s(&v["definition"]["name"]) {
        return Some(n);
    }
    v["id"].as_i64().map(|i| i.to_string())
}

fn identity_of_all(items: &[Value]) -> Option<Vec<String>> {
    if items.is_empty() {
        return None;
    }
    items.iter().map(identity).collect()
}

/// Lists of identified elements: matched by identity, then their order compared once.
fn diff_by_identity(path: &str, a: &[Value], b: &[Value], ordered: bool, out: &mut Vec<Difference>) {
    let ids_a: Vec<String> = a.iter().filter_map(identity).collect();
    let ids_b: Vec<String> = b.iter().filter_map(identity).collect();
    for (id, x) in ids_a.iter().zip(a) {
        let p = format!("{path}[{}]", Value::String(id.clone()));
        match ids_b.iter().position(|i| i == id) {
            Some(j) => diff(&p, x, &b[j], ordered, out),
            None => out.push(Difference {
                path: p,
                ferry: Some(x.clone()),
                connect: None,
            }),
        }
    }
    for (id, y) in ids_b.iter().zip(b) {
        if !ids_a.contains(id) {
            out.push(Difference {
                path: format!("{path}[{}]", Value::String(id.clone())),
                ferry: None,
                connect: Some(y.clone()),
            });
        }
    }
    let common_a: Vec<&String> = ids_a.iter().filter(|i| ids_b.contains(i)).collect();
    let common_b: Vec<&String> = ids_b.iter().filter(|i| ids_a.contains(i)).collect();
    if common_a != common_b {
        out.push(Difference {
            path: format!("{path} (order)"),
            ferry: Some(Value::from(
                common_a.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            )),
            connect: Some(Value::from(
                common_b.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            )),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all(a: Value, b: Value, ordered: bool) -> Vec<String> {
        let mut out = Vec::new();
        diff("$", &a, &b, ordered, &mut out);
        out.iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn equal_values_have_no_difference() {
        let v = json!({"a": [1, {"b": null}], "c": "x"});
        assert!(all(v.clone(), v, true).is_empty());
    }

    #[test]
    fn reports_changed_missing_and_extra_by_path() {
        let d = all(
            json!({"name": "x", "tasks": [{"state": "RUNNING"}], "ferry.only": 1}),
            json!({"name": "x", "tasks": [{"state": "FAILED"}, {"state": "RUNNING"}], "version": "4.3.0"}),
            false,
        );
        assert_eq!(
            d,
            vec![
                "$.tasks[0].state: ferry \"RUNNING\" | connect \"FAILED\"",
                "$.tasks[1]: ferry (absent) | connect {\"state\":\"RUNNING\"}",
                "$[\"ferry.only\"]: ferry 1 | connect (absent)",
                "$.version: ferry (absent) | connect \"4.3.0\"",
            ]
        );
    }

    #[test]
    fn key_order_counts_only_when_asked() {
        let a = json!({"a": 1, "b": 2});
        let b = json!({"b": 2, "a": 1});
        assert!(all(a.clone(), b.clone(), false).is_empty());
        assert_eq!(
            all(a, b, true),
            vec!["$ (key order): ferry [\"a\",\"b\"] | connect [\"b\",\"a\"]"]
        );
    }

    #[test]
    fn named_elements_are_matched_by_name_and_their_order_compared_once() {
        let d = all(
            json!([{"name": "a", "v": 1}, {"name": "b", "v": 2}, {"name": "f", "v": 0}]),
            json!([{"name": "b", "v": 2}, {"name": "a", "v": 3}, {"name": "c", "v": 4}]),
            false,
        );
        assert_eq!(
            d,
            vec![
                "$[\"a\"].v: ferry 1 | connect 3",
                "$[\"f\"]: ferry {\"name\":\"f\",\"v\":0} | connect (absent)",
                "$[\"c\"]: ferry (absent) | connect {\"name\":\"c\",\"v\":4}",
                "$ (order): ferry [\"a\",\"b\"] | connect [\"b\",\"a\"]",
            ]
        );
    }

    #[test]
    fn numbers_and_strings_of_the_same_text_differ() {
        assert_eq!(all(json!({"p": 1}), json!({"p": "1"}), false).len(), 1);
    }
}
