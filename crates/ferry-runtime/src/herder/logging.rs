//! `/admin/loggers`: log levels by logger name, applied to the running log filter.
//!
//! Connect's logger names are log4j names (`org.apache.kafka.connect`,
//! `io.debezium`); Ferry maps them onto its crates, and also accepts Rust
//! targets (`ferry_runtime::engine`) directly.

use std::sync::{Arc, Mutex};

use ferry_rest::entities::LoggerLevel;
use indexmap::IndexMap;

/// Applies a filter directive (tracing-subscriber `EnvFilter` syntax) to the running logger.
pub trait LogControl: Send + Sync {
    /// Replaces the active filter.
    fn apply(&self, directives: &str) -> Result<(), String>;
}

const KAFKA_CRATES: &[&str] = &[
    "ferry_runtime",
    "ferry_rest",
    "ferry_kafka",
    "ferry_converters",
    "ferry_transforms",
    "ferry_file",
    "ferry",
];
const DEBEZIUM_CRATES: &[&str] = &["ferry_postgres", "ferry_debezium_transforms"];

/// The Rust targets a logger name stands for.
fn targets_for(name: &str) -> Vec<String> {
    let java_prefix =
        |p: &str| name == p || p.starts_with(&format!("{name}.")) || name.starts_with(&format!("{p}."));
    let mut out = Vec::new();
    if java_prefix("org.apache.kafka") {
        out.extend(KAFKA_CRATES.iter().map(|s| s.to_string()));
    }
    if java_prefix("io.debezium") {
        out.extend(DEBEZIUM_CRATES.iter().map(|s| s.to_string()));
    }
    // A name that is a Rust module path filters that target; any other name (Connect
    // accepts every logger name) is recorded but filters nothing, and can never inject a
    // directive of its own (`,`, `=`, `[`).
    let is_target = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    if out.is_empty() && is_target(name) {
        out.push(name.to_owned());
    }
    out
}

/// A logger Ferry has without anyone setting it: a Java class or package name under
/// the namespaces Ferry implements, or one of Ferry's crates and their modules.
fn is_known_logger(name: &str) -> bool {
    let under = |ns: &str| {
        name.strip_prefix(ns)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|rest| !rest.is_empty() && rest.split('.').all(|p| !p.is_empty()))
    };
    let is_ferry_target = KAFKA_CRATES
        .iter()
        .chain(DEBEZIUM_CRATES)
        .any(|c| name == *c || name.strip_prefix(c).is_some_and(|r| r.starts_with("::")));
    under("org.apache.kafka") || under("io.debezium") || is_ferry_target
}

fn tracing_level(log4j: &str) -> Option<&'static str> {
    Some(match log4j.to_ascii_uppercase().as_str() {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "INFO" => "info",
        "DEBUG" => "debug",
        "TRACE" | "ALL" => "trace",
        _ => return None,
    })
}

struct Inner {
    root: String,
    set: IndexMap<String, (String, i64)>,
}

/// Logger levels set through the REST API.
#[derive(Clone)]
pub struct Loggers {
    inner: Arc<Mutex<Inner>>,
    control: Option<Arc<dyn LogControl>>,
}

impl Loggers {
    /// Levels over a control; `root` is the starting root level (log4j name).
    pub fn new(root: &str, control: Option<Arc<dyn LogControl>>) -> Self {
        Loggers {
            inner: Arc::new(Mutex::new(Inner {
                root: root.to_ascii_uppercase(),
                set: IndexMap::new(),
            })),
            control,
        }
    }

    /// Every explicitly set logger plus `root`.
    pub fn levels(&self) -> IndexMap<String, LoggerLevel> {
        let inner = self.inner.lock().expect("loggers lock");
        let mut out = IndexMap::new();
        out.insert(
            "root".to_owned(),
            LoggerLevel {
                level: inner.root.clone(),
                last_modified: None,
            },
        );
        let mut names: Vec<_> = inner.set.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        for (name, (level, at)) in names {
            out.insert(
                name.clone(),
                LoggerLevel {
                    level: level.clone(),
                    last_modified: Some(*at),
                },
            );
        }
        out
    }

    /// The level of one logger: its own, or the closest ancestor's, or root's; `None`
    /// for a logger that does not exist. As in Connect, a logger exists once a level was
    /// set on it; besides, the Java loggers Ferry stands in for (`org.apache.kafka.*`,
    /// `io.debezium.*`) and Ferry's own targets (`ferry_runtime::engine`) exist.
    pub fn level(&self, name: &str) -> Option<LoggerLevel> {
        let inner = self.inner.lock().expect("loggers lock");
        if name == "root" {
            return Some(LoggerLevel {
                level: inner.root.clone(),
                last_modified: None,
            });
        }
        if !inner.set.contains_key(name) && !is_known_logger(name) {
            return None;
        }
        let mut probe = name.to_owned();
        loop {
            if let Some((level, at)) = inner.set.get(&probe) {
                return Some(LoggerLevel {
                    level: level.clone(),
                    last_modified: (probe == name).then_some(*at),
                });
            }
            match probe.rfind('.') {
                Some(i) => probe.truncate(i),
                None => break,
            }
        }
        Some(LoggerLevel {
            level: inner.root.clone(),
            last_modified: None,
        })
    }

    /// Sets a level on `namespace` and its descendants; returns the affected logger names.
    pub fn set(&self, namespace: &str, level: &str) -> Result<Vec<String>, String> {
        let level = level.to_ascii_uppercase();
        if tracing_level(&level).is_none() {
            return Err(format!("Invalid log level '{level}'."));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let directives;
        let affected;
        let before;
        {
            let mut inner = self.inner.lock().expect("loggers lock");
            before = (inner.root.clone(), inner.set.clone());
            if namespace == "root" {
                inner.root = level.clone();
                inner.set.clear();
                affected = vec!["root".to_owned()];
            } else {
                let prefix = format!("{namespace}.");
                inner.set.retain(|k, _| !k.starts_with(&prefix));
                inner.set.insert(namespace.to_owned(), (level.clone(), now));
                affected = vec![namespace.to_owned()];
            }
            let mut d = vec![tracing_level(&inner.root).unwrap_or("info").to_owned()];
            let mut names: Vec<_> = inner.set.iter().collect();
            names.sort_by_key(|(k, _)| k.len());
            for (name, (lvl, _)) in names {
                for target in targets_for(name) {
                    d.push(format!("{target}={}", tracing_level(lvl).unwrap_or("info")));
                }
            }
            directives = d.join(",");
        }
        if let Some(c) = &self.control {
            if let Err(e) = c.apply(&directives) {
                // Nothing changed: a refused level must not stick and break later requests.
                let mut inner = self.inner.lock().expect("loggers lock");
                (inner.root, inner.set) = before;
                return Err(e);
            }
        }
        Ok(affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Capture(Mutex<String>);
    impl LogControl for Capture {
        fn apply(&self, d: &str) -> Result<(), String> {
            *self.0.lock().unwrap() = d.to_owned();
            Ok(())
        }
    }

    #[test]
    fn setting_a_java_namespace_maps_to_crates() {
        let cap = Arc::new(Capture(Mutex::new(String::new())));
        let l = Loggers::new("INFO", Some(cap.clone()));
        assert_eq!(l.set("io.debezium", "debug").unwrap(), vec!["io.debezium"]);
        assert_eq!(
            *cap.0.lock().unwrap(),
            "info,ferry_postgres=debug,ferry_debezium_transforms=debug"
        );
        assert_eq!(l.level("io.debezium.connector").unwrap().level, "DEBUG");
        assert_eq!(
            l.level("org.apache.kafka.connect.runtime.Worker").unwrap().level,
            "INFO"
        );
        assert_eq!(l.level("ferry_runtime::engine").unwrap().level, "INFO");
        // Connect answers 404 for a logger nobody created.
        for unknown in [
            "com.example.Foo",
            "org.apache.kafka",
            "org.apache.kafka..x",
            "ferry_runtimex",
            "x",
        ] {
            assert!(l.level(unknown).is_none(), "{unknown}");
        }
        l.set("com.example", "WARN").unwrap();
        assert_eq!(l.level("com.example").unwrap().level, "WARN");
        assert!(l.level("com.example.Foo").is_none());
        assert!(l.set("root", "loud").is_err());
        assert_eq!(l.levels().len(), 3);
    }

    /// Found by the REST fuzzing: `PUT /admin/loggers/a[b` made a filter the subscriber
    /// refused, the name stuck, and every later request failed until root was reset.
    #[test]
    fn odd_logger_names_are_accepted_and_inject_no_directive() {
        struct Strict(Mutex<String>);
        impl LogControl for Strict {
            fn apply(&self, d: &str) -> Result<(), String> {
                // As EnvFilter does: `[` opens a span filter, here a malformed one.
                if d.contains('[') {
                    return Err(format!("invalid filter directive in {d}"));
                }
                *self.0.lock().unwrap() = d.to_owned();
                Ok(())
            }
        }
        let cap = Arc::new(Strict(Mutex::new(String::new())));
        let l = Loggers::new("INFO", Some(cap.clone()));
        for name in ["a[b", "x,trace", "k=v", "com.example.Foo"] {
            assert_eq!(l.set(name, "DEBUG").unwrap(), vec![name.to_owned()], "{name}");
            assert_eq!(*cap.0.lock().unwrap(), "info", "{name} must not filter anything");
        }
        assert_eq!(l.set("ferry_runtime", "DEBUG").unwrap(), vec!["ferry_runtime"]);
        assert_eq!(*cap.0.lock().unwrap(), "info,ferry_runtime=debug");
    }
}
