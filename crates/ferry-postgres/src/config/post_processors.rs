//! `post.processors`: Debezium's change event post processors, of which Ferry implements
//! the reselect post processor (`io.debezium.processors.reselect.ReselectColumnsPostProcessor`).
//!
//! As Debezium's `PostProcessorRegistryServiceProvider`, each listed name is configured by
//! the keys under `post.processors.NAME.` when there is any, else by those under `NAME.`
//! (the older convention); `type` names the class and the other keys are its options.

use ferry_core::ConfigError;
use regex::Regex;

use super::filters::{anchored, split_regex_list};
use super::reader::Reader;

/// The class name of Debezium's reselect post processor.
pub const RESELECT_TYPE: &str = "io.debezium.processors.reselect.ReselectColumnsPostProcessor";

/// One configured reselect post processor.
#[derive(Clone, Debug)]
pub struct ReselectSettings {
    /// Its name in `post.processors`.
    pub name: String,
    /// `reselect.columns.include.list`: `schema.table:column` regexes (takes precedence).
    pub include: Vec<Regex>,
    /// `reselect.columns.exclude.list`: `schema.table:column` regexes.
    pub exclude: Vec<Regex>,
    /// `reselect.unavailable.values` (default true): reselect unchanged TOASTed values.
    pub unavailable_values: bool,
    /// `reselect.null.values` (default true): reselect null values.
    pub null_values: bool,
    /// `reselect.use.event.key` (default false): look the row up by the record key's
    /// fields instead of the table's primary key.
    pub use_event_key: bool,
    /// `reselect.error.handling.mode=fail` (default `warn`): a failed query or a row not
    /// found fails the task instead of being logged.
    pub fail_on_error: bool,
}

impl ReselectSettings {
    /// Whether column `column` of `schema.table` may be reselected, as Debezium's
    /// predicate on `schema.table:column`: the include list when set, else the exclude list.
    pub fn selects(&self, schema: &str, table: &str, column: &str) -> bool {
        let name = format!("{schema}.{table}:{column}");
        if !self.include.is_empty() {
            self.include.iter().any(|r| r.is_match(&name))
        } else {
            !self.exclude.iter().any(|r| r.is_match(&name))
        }
    }
}

/// Reads `post.processors` and each listed processor's settings.
pub(super) fn post_processors(r: &mut Reader<'_>) -> Vec<ReselectSettings> {
    const KEY: &str = "post.processors";
    let Some(list) = r.opt(KEY) else {
        return Vec::new();
    };
    let map = r.map();
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let new_prefix = format!("{KEY}.{name}.");
        let old_prefix = format!("{name}.");
        let prefix = if map.keys().any(|k| k.starts_with(&new_prefix)) {
            new_prefix
        } else {
            old_prefix
        };
        let type_key = format!("{prefix}type");
        let Some(kind) = map.get(&type_key).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
            r.errors.push(ConfigError::invalid(
                KEY,
                &list,
                format!("Post processor '{name}' is missing '{name}.type' and/or '{name}.<option>' configurations"),
            ));
            continue;
        };
        if kind != RESELECT_TYPE {
            r.errors.push(ConfigError::invalid(
                &type_key,
                kind,
                format!(
                    "post processor type '{kind}' is not supported; Ferry implements only {RESELECT_TYPE}"
                ),
            ));
            continue;
        }
        let option = |o: &str| {
            let key = format!("{prefix}{o}");
            let value = map
                .get(&key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            (key, value)
        };
        let mut errors = Vec::new();
        let mut boolean = |o: &str, default: bool| match option(o) {
            (_, None) => default,
            (key, Some(v)) => match v.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    errors.push(ConfigError::invalid(
                        &key,
                        &v,
                        "Expected value to be either true or false",
                    ));
                    default
                }
            },
        };
        let unavailable_values = boolean("reselect.unavailable.values", true);
        let null_values = boolean("reselect.null.values", true);
        let use_event_key = boolean("reselect.use.event.key", false);
        let fail_on_error = match option("reselect.error.handling.mode") {
            (_, None) => false,
            (key, Some(v)) => match v.to_ascii_lowercase().as_str() {
                "warn" => false,
                "fail" => true,
                _ => {
                    errors.push(ConfigError::invalid(&key, &v, "Value must be one of warn, fail"));
                    false
                }
            },
        };
        let mut regexes = |o: &str| {
            let (key, value) = option(o);
            let mut out = Vec::new();
            for pat in value.as_deref().map(split_regex_list).unwrap_or_default() {
                match anchored(&pat) {
                    Ok(re) => out.push(re),
                    Err(e) => errors.push(ConfigError::invalid(
                        &key,
                        value.as_deref().unwrap_or_default(),
                        format!("invalid regular expression '{pat}': {e}"),
                    )),
                }
            }
            out
        };
        let include = regexes("reselect.columns.include.list");
        let exclude = regexes("reselect.columns.exclude.list");
        r.errors.extend(errors);
        if !(unavailable_values || null_values) {
            tracing::warn!(post_processor = %name, "Reselect post-processor disables both null and unavailable columns, no-reselection will occur.");
        }
        out.push(ReselectSettings {
            name: name.to_string(),
            include,
            exclude,
            unavailable_values,
            null_values,
            use_event_key,
            fail_on_error,
        });
    }
    out
}
