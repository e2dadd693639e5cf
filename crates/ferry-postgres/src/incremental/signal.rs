//! Signals: a row inserted into the signal table (`id`, `type`, `data`), read from the
//! change event the connector streams for it, and the actions Ferry understands.

use ferry_core::serde_json::{self, Value as Json};
use ferry_core::{Record, Value};
use regex::Regex;

/// Debezium's action names.
pub mod names {
    /// `execute-snapshot`.
    pub const EXECUTE_SNAPSHOT: &str = "execute-snapshot";
    /// `stop-snapshot`.
    pub const STOP_SNAPSHOT: &str = "stop-snapshot";
    /// `pause-snapshot`.
    pub const PAUSE_SNAPSHOT: &str = "pause-snapshot";
    /// `resume-snapshot`.
    pub const RESUME_SNAPSHOT: &str = "resume-snapshot";
    /// `log`.
    pub const LOG: &str = "log";
    /// The watermark opening a chunk's window.
    pub const WINDOW_OPEN: &str = "snapshot-window-open";
    /// The watermark closing a chunk's window.
    pub const WINDOW_CLOSE: &str = "snapshot-window-close";
}

/// One signal, as the signal table's columns hold it.
#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    /// `id`.
    pub id: String,
    /// `type`.
    pub kind: String,
    /// `data` (may be empty).
    pub data: String,
}

/// An `additional-conditions` entry: a filter for the tables matching `data-collection`.
#[derive(Clone, Debug)]
pub struct AdditionalCondition {
    /// Case-insensitive, whole-name pattern.
    pub data_collection: Regex,
    /// The SQL condition.
    pub filter: String,
}

/// What a signal asks for.
#[derive(Clone, Debug)]
pub enum Action {
    /// `execute-snapshot` of type `incremental`.
    ExecuteIncremental {
        /// `data-collections` (patterns).
        collections: Vec<String>,
        /// `additional-conditions`.
        conditions: Vec<AdditionalCondition>,
        /// `surrogate-key` (empty: the primary key).
        surrogate_key: String,
    },
    /// `execute-snapshot` of type `blocking`: streaming stops while the tables are read.
    ExecuteBlocking {
        /// `data-collections` (patterns, matched case-insensitively).
        collections: Vec<String>,
        /// `additional-conditions`: per table (`data-collection`, an identifier, not a
        /// pattern), the whole SELECT that reads it (`filter`), as Debezium takes it.
        selects: Vec<(String, String)>,
    },
    /// `stop-snapshot` (`None`: every table).
    Stop(Option<Vec<String>>),
    /// `pause-snapshot`.
    Pause,
    /// `resume-snapshot`.
    Resume,
    /// `log`: the message.
    Log(String),
    /// A chunk's opening watermark.
    WindowOpen,
    /// A chunk's closing watermark.
    WindowClose,
}

/// Why a signal is ignored (logged, never fatal).
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    /// `data` is not JSON.
    #[error("signal '{id}' of type '{kind}': data is not JSON ({reason})")]
    BadJson {
        /// Signal id.
        id: String,
        /// Signal type.
        kind: String,
        /// Parser message.
        reason: String,
    },
    /// A required field is missing or wrong.
    #[error("signal '{id}' of type '{kind}': {reason}")]
    Invalid {
        /// Signal id.
        id: String,
        /// Signal type.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// Ferry does not act on this type.
    #[error("signal '{id}': type '{kind}' is not supported by Ferry; ignored")]
    Unsupported {
        /// Signal id.
        id: String,
        /// Signal type.
        kind: String,
    },
}

impl Signal {
    /// The signal a streamed record carries: an insert (`op: c`) into the signal table,
    /// whose `after` has string columns `id`, `type` and `data` (the first three columns).
    pub fn from_record(r: &Record) -> Option<Signal> {
        let Value::Struct(v) = &r.value else { return None };
        if !matches!(v.get("op"), Some(Value::String(op)) if op == "c") {
            return None;
        }
        let Some(Value::Struct(after)) = v.get("after") else {
            return None;
        };
        let text = |i: usize| match after.values().get(i) {
            Some(Value::String(s)) => Some(s.to_string()),
            Some(Value::Null) => Some(String::new()),
            _ => None,
        };
        Some(Signal {
            id: text(0)?,
            kind: text(1)?,
            data: text(2).unwrap_or_default(),
        })
    }

    /// A signal written as JSON, `{"id": ..., "type": ..., "data": {...}}` (`data` kept as
    /// JSON text), as the Kafka and file channels carry them.
    pub fn from_json(value: &str) -> Option<Signal> {
        let v: Json = serde_json::from_str(value).ok()?;
        let o = v.as_object()?;
        let text = |k: &str| o.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        Some(Signal {
            id: text("id"),
            kind: text("type"),
            data: match o.get("data") {
                Some(Json::Null) | None => String::new(),
                Some(d) => d.to_string(),
            },
        })
    }

    /// The window close that deleting a chunk's open marker means under
    /// `incremental.snapshot.watermarking.strategy=insert_delete` (Debezium reads the
    /// deleted row's id, `open` replaced by `close`): a delete event on the signal table.
    pub fn window_close_from_delete(r: &Record) -> Option<Signal> {
        let Value::Struct(v) = &r.value else { return None };
        if !matches!(v.get("op"), Some(Value::String(op)) if op == "d") {
            return None;
        }
        let Some(Value::Struct(before)) = v.get("before") else {
            return None;
        };
        let Some(Value::String(id)) = before.values().first() else {
            return None;
        };
        let data = match before.values().get(2) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        };
        Some(Signal {
            id: id.replace("open", "close"),
            kind: names::WINDOW_CLOSE.to_string(),
            data,
        })
    }

    /// Interprets the signal.
    pub fn action(&self) -> Result<Action, SignalError> {
        let invalid = |reason: &str| SignalError::Invalid {
            id: self.id.clone(),
            kind: self.kind.clone(),
            reason: reason.to_string(),
        };
        let data = || -> Result<Json, SignalError> {
            if self.data.trim().is_empty() {
                return Ok(Json::Object(Default::default()));
            }
            serde_json::from_str(&self.data).map_err(|e| SignalError::BadJson {
                id: self.id.clone(),
                kind: self.kind.clone(),
                reason: e.to_string(),
            })
        };
        let collections = |d: &Json| -> Option<Vec<String>> {
            let a = d.get("data-collections")?.as_array()?;
            let v: Vec<String> = a
                .iter()
                .filter_map(|x| x.as_str().map(|s| s.trim().to_string()))
                .collect();
            (!v.is_empty()).then_some(v)
        };
        let blocking = |d: &Json| -> Result<bool, SignalError> {
            let t = d.get("type").and_then(Json::as_str).unwrap_or("incremental");
            match t.to_ascii_lowercase().as_str() {
                "incremental" => Ok(false),
                "blocking" => Ok(true),
                _ => Err(invalid(&format!("unexpected snapshot type '{t}'"))),
            }
        };
        match self.kind.as_str() {
            names::EXECUTE_SNAPSHOT => {
                let d = data()?;
                let collections = collections(&d)
                    .ok_or_else(|| invalid("the field 'data-collections' is missing or empty"))?;
                if blocking(&d)? {
                    let mut selects = Vec::new();
                    for c in d
                        .get("additional-conditions")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let field = |name: &str| {
                            c.get(name)
                                .and_then(Json::as_str)
                                .ok_or_else(|| invalid(&format!("an additional condition has no '{name}'")))
                        };
                        selects.push((
                            field("data-collection")?.trim().to_string(),
                            field("filter")?.to_string(),
                        ));
                    }
                    return Ok(Action::ExecuteBlocking { collections, selects });
                }
                let mut conditions = Vec::new();
                if let Some(a) = d.get("additional-conditions").and_then(Json::as_array) {
                    for c in a {
                        let dc = c
                            .get("data-collection")
                            .and_then(Json::as_str)
                            .ok_or_else(|| invalid("an additional condition has no 'data-collection'"))?;
                        let filter = c
                            .get("filter")
                            .and_then(Json::as_str)
                            .ok_or_else(|| invalid("an additional condition has no 'filter'"))?;
                        let re = Regex::new(&format!("(?i)^(?:{dc})$"))
                            .map_err(|e| invalid(&format!("bad data-collection pattern '{dc}': {e}")))?;
                        conditions.push(AdditionalCondition {
                            data_collection: re,
                            filter: filter.to_string(),
                        });
                    }
                }
                let surrogate_key = d
                    .get("surrogate-key")
                    .and_then(Json::as_str)
                    .map(str::trim)
                    .unwrap_or("")
                    .to_string();
                Ok(Action::ExecuteIncremental {
                    collections,
                    conditions,
                    surrogate_key,
                })
            }
            names::STOP_SNAPSHOT => {
                let d = data()?;
                if blocking(&d)? {
                    // Debezium stops incremental snapshots only.
                    return Err(SignalError::Unsupported {
                        id: self.id.clone(),
                        kind: format!("{} (type blocking)", self.kind),
                    });
                }
                Ok(Action::Stop(collections(&d)))
            }
            names::PAUSE_SNAPSHOT => Ok(Action::Pause),
            names::RESUME_SNAPSHOT => Ok(Action::Resume),
            names::LOG => {
                let d = data()?;
                match d.get("message").and_then(Json::as_str) {
                    Some(m) if !m.is_empty() => Ok(Action::Log(m.to_string())),
                    _ => Err(invalid("the field 'message' is missing from data")),
                }
            }
            names::WINDOW_OPEN => Ok(Action::WindowOpen),
            names::WINDOW_CLOSE => Ok(Action::WindowClose),
            _ => Err(SignalError::Unsupported {
                id: self.id.clone(),
                kind: self.kind.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(kind: &str, data: &str) -> Signal {
        Signal {
            id: "s1".into(),
            kind: kind.into(),
            data: data.into(),
        }
    }

    #[test]
    fn execute_snapshot_reads_collections_conditions_and_type() {
        let a = sig(
            "execute-snapshot",
            r#"{"data-collections": [" public.a ", "public.b.*"], "type": "INCREMENTAL",
                "additional-conditions": [{"data-collection": "public.a", "filter": "x > 1"}]}"#,
        )
        .action()
        .unwrap();
        let Action::ExecuteIncremental {
            collections,
            conditions,
            surrogate_key,
        } = a
        else {
            panic!("{a:?}")
        };
        assert_eq!(collections, ["public.a", "public.b.*"]);
        assert_eq!(conditions.len(), 1);
        assert!(conditions[0].data_collection.is_match("PUBLIC.A"));
        assert!(!conditions[0].data_collection.is_match("public.ab"));
        assert_eq!(conditions[0].filter, "x > 1");
        assert_eq!(surrogate_key, "");
    }

    #[test]
    fn bad_signals_are_errors_not_panics() {
        assert!(matches!(
            sig("execute-snapshot", "{").action(),
            Err(SignalError::BadJson { .. })
        ));
        assert!(matches!(
            sig("execute-snapshot", r#"{"data-collections": []}"#).action(),
            Err(SignalError::Invalid { .. })
        ));
        assert!(matches!(
            sig(
                "stop-snapshot",
                r#"{"data-collections": ["a.b"], "type": "blocking"}"#
            )
            .action(),
            Err(SignalError::Unsupported { .. })
        ));
        let blocking = sig(
            "execute-snapshot",
            r#"{"data-collections": ["public.a"], "type": "BLOCKING",
                "additional-conditions": [{"data-collection": "public.a", "filter": "SELECT * FROM public.a WHERE id > 5"}]}"#,
        )
        .action();
        assert!(
            matches!(&blocking, Ok(Action::ExecuteBlocking { collections, selects })
                if collections == &["public.a"] && selects == &[("public.a".to_string(), "SELECT * FROM public.a WHERE id > 5".to_string())]),
            "{blocking:?}"
        );
        assert!(matches!(
            sig(
                "execute-snapshot",
                r#"{"data-collections": ["a.b"], "type": "weird"}"#
            )
            .action(),
            Err(SignalError::Invalid { .. })
        ));
        assert!(matches!(
            sig("log", "{}").action(),
            Err(SignalError::Invalid { .. })
        ));
        assert!(matches!(
            sig("frobnicate", "").action(),
            Err(SignalError::Unsupported { .. })
        ));
        assert!(matches!(
            sig("stop-snapshot", "").action(),
            Ok(Action::Stop(None))
        ));
        assert!(matches!(sig("log", r#"{"message": "hi {}"}"#).action(), Ok(Action::Log(m)) if m == "hi {}"));
    }
}
