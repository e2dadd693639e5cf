//! Debezium's value checks ([`CHECKS`]), the settings Ferry defines without implementing
//! them ([`NOT_IMPLEMENTED`]), and `/config/validate`'s answer for the connector, worded
//! as Debezium words its errors (`The 'KEY' value is invalid: REASON`).

use ferry_core::config::{ConfigDefault, ConfigValueInfo};
use ferry_core::{ConfigError, ConfigMap};

use super::def::{config_def, Check, NotImplemented, CHECKS, NOT_IMPLEMENTED, READ_ELSEWHERE};
use super::reader::Reader;
use super::PostgresConfig;

/// The error Debezium reports for `key`.
pub(super) fn invalid(key: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::other(Some(key), format!("The '{key}' value is invalid: {reason}"))
}

/// Runs every setting's checks, then refuses unsupported settings set to anything but
/// their default; marks the settings read elsewhere as read. Leaves in `r.checked` how
/// many errors the checks found (they come first in `r.errors`).
pub(super) fn run(r: &mut Reader<'_>) {
    for (name, checks) in CHECKS {
        let value = r.opt(name);
        for check in *checks {
            if let Some(reason) = failure(*check, name, value.as_deref(), r) {
                r.errors.push(invalid(name, reason));
            }
        }
    }
    r.checked = r.errors.len();
    for (name, kind) in NOT_IMPLEMENTED {
        let Some(value) = r.opt(name) else {
            continue;
        };
        if *kind == NotImplemented::NoEffect || r.errors.iter().any(|e| e.key.as_deref() == Some(*name)) {
            continue;
        }
        let default = match r.def().key(name).map(|k| &k.default) {
            Some(ConfigDefault::Value(d)) => Some(d.clone()),
            _ => None,
        };
        match default {
            Some(d) if d.eq_ignore_ascii_case(&value) => {}
            Some(d) => r.errors.push(invalid(
                name,
                format!("Ferry does not support {name} yet; only its default, {d}, is accepted"),
            )),
            None => r.errors.push(invalid(
                name,
                format!("Ferry does not support {name} yet; leave it unset"),
            )),
        }
    }
    for name in READ_ELSEWHERE {
        r.opt(name);
    }
}

/// Why `value` of `name` fails `check`, if it does.
fn failure(check: Check, name: &str, value: Option<&str>, r: &Reader<'_>) -> Option<String> {
    let fails = |ok: bool, reason: &str| (!ok).then(|| reason.to_string());
    match check {
        Check::Required => fails(value.is_some(), "A value is required"),
        Check::Port => {
            let port = value?.parse::<i64>().ok()?;
            fails(port <= 65535, "A port number of at most 65535 is expected")
        }
        Check::QueueSize => {
            let queue = value.unwrap_or("8192").parse::<i32>().ok()?;
            let batch = r
                .raw("max.batch.size")
                .and_then(|(_, v)| v.parse::<i32>().ok())
                .unwrap_or(2048);
            if queue <= 0 {
                Some("A positive queue size is required".into())
            } else {
                fails(queue > batch, "Must be larger than the maximum batch size")
            }
        }
        Check::ExclusiveWith { include, shown } => fails(
            value.is_none() || !r.is_set(include),
            &format!("\"{shown}\" is already specified"),
        ),
        _ => {
            let value = value?;
            match check {
                Check::Int => fails(value.parse::<i32>().is_ok(), "An integer is expected"),
                Check::PositiveInt => fails(
                    value.parse::<i32>().is_ok_and(|n| n > 0),
                    "A positive, non-zero integer value is expected",
                ),
                Check::NonNegativeInt => fails(
                    value.parse::<i32>().is_ok_and(|n| n >= 0),
                    "An non-negative integer is expected",
                ),
                Check::Long => fails(value.parse::<i64>().is_ok(), "A long value is expected"),
                Check::PositiveLong => fails(
                    value.parse::<i64>().is_ok_and(|n| n > 0),
                    "A positive, non-zero long value is expected",
                ),
                Check::NonNegativeLong => fails(
                    value.parse::<i64>().is_ok_and(|n| n >= 0),
                    "A non-negative long value is expected",
                ),
                Check::Boolean => fails(
                    value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"),
                    "Either 'true' or 'false' is expected",
                ),
                Check::OneOf => {
                    let allowed = r.def().key(name).map(|k| k.recommended_values.clone()).unwrap_or_default();
                    fails(
                        allowed.iter().any(|a| a.eq_ignore_ascii_case(value)),
                        &format!("Value must be one of {}", allowed.join(", ")),
                    )
                }
                Check::KeyValueMap => fails(
                    value.split(',').all(|pair| {
                        pair.split_once('=')
                            .is_some_and(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
                    }),
                    "A equivalent-separated map of valid key/value pairs is expected, for example: k1=v1,k2=v2",
                ),
                Check::KeyColumns => key_columns_failure(value),
                Check::SkippedOperations => fails(
                    value
                        .split(',')
                        .map(str::trim)
                        .all(|op| matches!(op, "c" | "u" | "d" | "t" | "none")),
                    "Invalid operation",
                ),
                Check::Required
                | Check::Port
                | Check::QueueSize
                | Check::ExclusiveWith { .. } => None,
            }
        }
    }
}

/// `message.key.columns`: each `;`-separated entry must be `table:col[,col]`.
fn key_columns_failure(value: &str) -> Option<String> {
    const PATTERN: &str = r"^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$";
    let re = regex::Regex::new(PATTERN).expect("a valid pattern");
    value
        .split(';')
        .filter(|e| !e.trim().is_empty())
        .find(|e| !re.is_match(e))
        .map(|e| format!("{e} has an invalid format (expecting '{PATTERN}')"))
}

/// Debezium's wording for every error, and only the checks' errors for a setting whose
/// checks failed (its other errors would repeat them in other words).
pub(super) fn settle(errors: Vec<ConfigError>, checked: usize) -> Vec<ConfigError> {
    let failed: Vec<String> = errors[..checked.min(errors.len())]
        .iter()
        .filter_map(|e| e.key.clone())
        .collect();
    errors
        .into_iter()
        .enumerate()
        .filter(|(i, e)| *i < checked || e.key.as_ref().is_none_or(|k| !failed.contains(k)))
        .map(|(_, e)| debezium_wording(e))
        .collect()
}

/// `Invalid value V for configuration K: REASON` (Kafka's wording) or a missing-value
/// error becomes `The 'K' value is invalid: REASON`.
fn debezium_wording(e: ConfigError) -> ConfigError {
    let Some(key) = e.key.clone() else {
        return e;
    };
    let text = e.to_string();
    if text.starts_with("The '") {
        return e;
    }
    if text.starts_with("Missing required configuration") {
        return invalid(&key, "A value is required");
    }
    let marker = format!(" for configuration {key}: ");
    match text.find(&marker) {
        Some(at) if text.starts_with("Invalid value ") => invalid(&key, &text[at + marker.len()..]),
        _ => e,
    }
}

/// `/config/validate`'s entries for the connector: every defined setting in order, with
/// Debezium's recommended values, visibility and errors, then settings outside the
/// definition that have errors.
pub fn validate(config: &ConfigMap) -> Vec<ConfigValueInfo> {
    let errors = PostgresConfig::parse(config).err().unwrap_or_default();
    let messages = |name: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|e| e.key.as_deref() == Some(name))
            .map(|e| e.to_string())
            .collect()
    };
    let def = config_def();
    let mut infos: Vec<ConfigValueInfo> = def
        .keys()
        .map(|k| ConfigValueInfo {
            name: k.name.clone(),
            value: None,
            recommended_values: k.recommended_values.clone(),
            errors: messages(&k.name),
            // Debezium never shows schema.exclude.list (an invisible recommender).
            visible: k.name != "schema.exclude.list",
        })
        .collect();
    for e in &errors {
        let Some(key) = &e.key else { continue };
        if def.key(key).is_none() && !infos.iter().any(|i| &i.name == key) {
            infos.push(ConfigValueInfo {
                name: key.clone(),
                value: config.get(key).cloned(),
                recommended_values: Vec::new(),
                errors: messages(key),
                visible: true,
            });
        }
    }
    infos
}
