//! Options every connector has (Connect's `ConnectorConfig`, `SourceConnectorConfig`,
//! `SinkConnectorConfig`), and the typed view the task engines use.

use ferry_core::config::{ConfigDef, ConfigKey, ConfigType, Importance, Validator, Width};
use ferry_core::{ConfigMap, ConnectorType};

const COMMON: &str = "Common";
const TRANSFORMS: &str = "Transforms";
const PREDICATES: &str = "Predicates";
const ERRORS: &str = "Error Handling";
const TOPIC_CREATION: &str = "Topic Creation";
const EXACTLY_ONCE: &str = "Exactly Once Support";
const OFFSETS_TOPIC: &str = "offsets.topic";

/// The setting naming the connector plugin's version (Connect 4.x).
pub const CONNECTOR_PLUGIN_VERSION: &str = "connector.plugin.version";

fn no_control_chars() -> Validator {
    Validator::custom(|_, v| match v {
        ferry_core::ConfigValue::String(s) if s.is_empty() => Err("String may not be empty".into()),
        ferry_core::ConfigValue::String(s) if s.chars().any(|c| c.is_control()) => {
            Err("String may not contain control sequences".into())
        }
        _ => Ok(()),
    })
}

/// Connect's `NonEmptyString`.
fn non_empty() -> Validator {
    Validator::custom(|_, v| match v {
        ferry_core::ConfigValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
        _ => Ok(()),
    })
}

fn no_duplicate_alias() -> Validator {
    Validator::custom(|_, v| match v {
        ferry_core::ConfigValue::List(items) => {
            let mut seen = std::collections::HashSet::new();
            if items.iter().all(|i| seen.insert(i)) {
                Ok(())
            } else {
                Err("Duplicate alias provided.".into())
            }
        }
        _ => Ok(()),
    })
}

/// A key whose allowed values are checked but not offered as recommendations (Connect's
/// `ValidString` validators recommend nothing; only recommenders do).
fn unrecommended(mut key: ConfigKey) -> ConfigKey {
    key.recommended_values.clear();
    key
}

/// A `*.plugin.version` key (Connect 4.x, KIP-891): Ferry has one version of each plugin,
/// so the setting is accepted and has no effect.
fn plugin_version_key(name: &str, order: i32, display: &str, what: &str) -> ConfigKey {
    ConfigKey::new(name, ConfigType::String)
        .default_null()
        .importance(Importance::Low)
        .doc(format!(
            "Version of the {what} plugin to use. Ferry ships one version of each plugin, so \
             the only accepted value is that version; unset means that version."
        ))
        .group(COMMON, order)
        .width(Width::Short)
        .display_name(display)
}

/// The options common to every connector, in Kafka Connect 4.3's order and groups.
pub fn common_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new("name", ConfigType::String)
                .validator(no_control_chars())
                .importance(Importance::High)
                .doc("Globally unique name to use for this connector.")
                .group(COMMON, 1)
                .width(Width::Medium)
                .display_name("Connector name"),
        )
        .define(
            ConfigKey::new("connector.class", ConfigType::String)
                .importance(Importance::High)
                .doc("Name or alias of the class for this connector.")
                .group(COMMON, 2)
                .width(Width::Long)
                .display_name("Connector class"),
        )
        .define(
            ConfigKey::new(CONNECTOR_PLUGIN_VERSION, ConfigType::String)
                .default_null()
                .importance(Importance::Medium)
                .doc(
                    "Version of the connector plugin to run. Ferry ships one version of each \
                     connector; unset (or that version) runs it.",
                )
                .group(COMMON, 3)
                .width(Width::Medium)
                .display_name("Connector version"),
        )
        .define(
            ConfigKey::new("tasks.max", ConfigType::Int)
                .default_value("1")
                .validator(Validator::at_least(1.0))
                .importance(Importance::High)
                .doc("Maximum number of tasks to use for this connector.")
                .group(COMMON, 4)
                .width(Width::Short)
                .display_name("Tasks max"),
        )
        .define(
            ConfigKey::new("tasks.max.enforce", ConfigType::Boolean)
                .default_value("true")
                .importance(Importance::Low)
                .doc(
                    "Whether a connector that generates more task configs than tasks.max fails \
                     (true) or has its extra tasks run anyway (false, deprecated).",
                )
                .group(COMMON, 5)
                .width(Width::Short)
                .display_name("Enforce tasks max"),
        )
        .define(
            ConfigKey::new("key.converter", ConfigType::Class)
                .default_null()
                .importance(Importance::Low)
                .doc("Converter class for keys; the worker's key.converter when absent.")
                .group(COMMON, 6)
                .width(Width::Short)
                .display_name("Key converter class"),
        )
        .define(plugin_version_key(
            "key.converter.plugin.version",
            7,
            "Key converter version",
            "key converter",
        ))
        .define(
            ConfigKey::new("value.converter", ConfigType::Class)
                .default_null()
                .importance(Importance::Low)
                .doc("Converter class for values; the worker's value.converter when absent.")
                .group(COMMON, 8)
                .width(Width::Short)
                .display_name("Value converter class"),
        )
        .define(plugin_version_key(
            "value.converter.plugin.version",
            9,
            "Value converter version",
            "value converter",
        ))
        .define(
            ConfigKey::new("header.converter", ConfigType::Class)
                .default_null()
                .importance(Importance::Low)
                .doc("Header converter class; the worker's header.converter when absent.")
                .group(COMMON, 10)
                .width(Width::Short)
                .display_name("Header converter class"),
        )
        .define(plugin_version_key(
            "header.converter.plugin.version",
            11,
            "Header converter version",
            "header converter",
        ))
        .define(
            ConfigKey::new("transforms", ConfigType::List)
                .default_value("")
                .validator(no_duplicate_alias())
                .importance(Importance::Low)
                .doc("Aliases for the transformations to be applied to records.")
                .group(TRANSFORMS, 12)
                .width(Width::Long)
                .display_name("Transforms"),
        )
        .define(
            ConfigKey::new("predicates", ConfigType::List)
                .default_value("")
                .validator(no_duplicate_alias())
                .importance(Importance::Low)
                .doc("Aliases for the predicates used by transformations.")
                .group(PREDICATES, 13)
                .width(Width::Long)
                .display_name("Predicates"),
        )
        .define(unrecommended(
            ConfigKey::new("config.action.reload", ConfigType::String)
                .default_value("restart")
                .validator(Validator::one_of_ignore_case(["none", "restart"]))
                .importance(Importance::Low)
                .doc(
                    "What happens when a config provider reports that a value this connector \
                     uses changed: 'restart' restarts the connector, 'none' does nothing.",
                )
                .group(COMMON, 14)
                .width(Width::Medium)
                .display_name("Reload Action"),
        ))
        .define(
            ConfigKey::new("errors.retry.timeout", ConfigType::Long)
                .default_value("0")
                .importance(Importance::Medium)
                .doc("Maximum duration in milliseconds that a failed operation is retried; 0 no retries, -1 forever.")
                .group(ERRORS, 1)
                .width(Width::Medium)
                .display_name("Retry Timeout for Errors"),
        )
        .define(
            ConfigKey::new("errors.retry.delay.max.ms", ConfigType::Long)
                .default_value("60000")
                .importance(Importance::Medium)
                .doc("Longest wait, in milliseconds, between two retries of a failed operation.")
                .group(ERRORS, 2)
                .width(Width::Medium)
                .display_name("Maximum Delay Between Retries for Errors"),
        )
        .define(unrecommended(
            ConfigKey::new("errors.tolerance", ConfigType::String)
                .default_value("none")
                .validator(Validator::one_of_ignore_case(["none", "all"]))
                .importance(Importance::Medium)
                .doc("'none' fails the task on the first bad record; 'all' skips bad records.")
                .group(ERRORS, 3)
                .width(Width::Short)
                .display_name("Error Tolerance"),
        ))
        .define(
            ConfigKey::new("errors.log.enable", ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .doc("Whether each failed operation and skipped record is logged as a warning.")
                .group(ERRORS, 4)
                .width(Width::Short)
                .display_name("Log Errors"),
        )
        .define(
            ConfigKey::new("errors.log.include.messages", ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .doc(
                    "Whether the logged failures include the record itself (topic, partition, \
                     offset, key and value); only with errors.log.enable.",
                )
                .group(ERRORS, 5)
                .width(Width::Short)
                .display_name("Log Error Details"),
        )
}

/// Source-only options: topic creation (KIP-158), exactly-once support (KIP-618) and a
/// connector's own offsets topic. Ferry accepts the last two and ignores them: it delivers
/// at least once and keeps every connector's offsets in the worker's offsets topic.
pub fn source_config_def() -> ConfigDef {
    common_config_def()
        .define(
            ConfigKey::new("topic.creation.groups", ConfigType::List)
                .default_value("")
                .validator(no_duplicate_alias())
                .importance(Importance::Low)
                .doc("Groups of configurations for topics created by source connectors.")
                .group(TOPIC_CREATION, 1)
                .width(Width::Long)
                .display_name("Topic Creation Groups"),
        )
        .define(unrecommended(
            ConfigKey::new("exactly.once.support", ConfigType::String)
                .default_value("requested")
                .validator(Validator::one_of_ignore_case(["required", "requested"]))
                .importance(Importance::Medium)
                .doc(
                    "Whether the connector must be able to deliver exactly once ('required') or \
                     may not ('requested'). Ferry delivers at least once either way.",
                )
                .group(EXACTLY_ONCE, 2)
                .width(Width::Short)
                .display_name("Exactly once support"),
        ))
        .define(unrecommended(
            ConfigKey::new("transaction.boundary", ConfigType::String)
                .default_value("poll")
                .validator(Validator::one_of_ignore_case(["interval", "poll", "connector"]))
                .importance(Importance::Medium)
                .doc(
                    "Where exactly-once transactions would end: after each poll, after an \
                     interval, or where the connector says. Not used by Ferry.",
                )
                .group(EXACTLY_ONCE, 3)
                .width(Width::Short)
                .display_name("Transaction Boundary"),
        ))
        .define(
            ConfigKey::new("transaction.boundary.interval.ms", ConfigType::Long)
                .default_null()
                .validator(Validator::at_least(0.0))
                .importance(Importance::Low)
                .doc("Transaction length in milliseconds for transaction.boundary=interval. Not used by Ferry.")
                .group(EXACTLY_ONCE, 4)
                .width(Width::Short)
                .display_name("Transaction boundary interval"),
        )
        .define(
            ConfigKey::new("offsets.storage.topic", ConfigType::String)
                .default_null()
                .validator(non_empty())
                .importance(Importance::Low)
                .doc(
                    "A topic of the connector's own for its source offsets. Accepted; Ferry keeps \
                     the offsets in the worker's offsets topic.",
                )
                .group(OFFSETS_TOPIC, 1)
                .width(Width::Long)
                .display_name("Offsets topic"),
        )
}

/// Sink-only options.
pub fn sink_config_def() -> ConfigDef {
    common_config_def()
        .define(
            ConfigKey::new("topics", ConfigType::List)
                .default_value("")
                .importance(Importance::High)
                .doc("List of topics to consume, separated by commas.")
                .group(COMMON, 4)
                .width(Width::Long)
                .display_name("Topics"),
        )
        .define(
            ConfigKey::new("topics.regex", ConfigType::String)
                .default_value("")
                .validator(Validator::custom(|_, v| match v {
                    ferry_core::ConfigValue::String(s) if !s.is_empty() => regex::Regex::new(s)
                        .map(|_| ())
                        .map_err(|e| format!("Invalid regular expression: {e}")),
                    _ => Ok(()),
                }))
                .importance(Importance::High)
                .doc("Regular expression giving topics to consume.")
                .group(COMMON, 4)
                .width(Width::Long)
                .display_name("Topics regex"),
        )
        .define(
            ConfigKey::new("errors.deadletterqueue.topic.name", ConfigType::String)
                .default_value("")
                .importance(Importance::Medium)
                .doc("Topic to which records that fail are written (with errors.tolerance=all).")
                .group(ERRORS, 6)
                .width(Width::Medium)
                .display_name("Dead Letter Queue Topic Name"),
        )
        .define(
            ConfigKey::new(
                "errors.deadletterqueue.topic.replication.factor",
                ConfigType::Short,
            )
            .default_value("3")
            .importance(Importance::Medium)
            .doc("Replication factor of the dead letter queue topic when Ferry creates it.")
            .group(ERRORS, 7)
            .width(Width::Medium)
            .display_name("Dead Letter Queue Topic Replication Factor"),
        )
        .define(
            ConfigKey::new(
                "errors.deadletterqueue.context.headers.enable",
                ConfigType::Boolean,
            )
            .default_value("false")
            .importance(Importance::Medium)
            .doc("Whether records written to the dead letter queue carry __connect.errors.* headers saying what failed.")
            .group(ERRORS, 8)
            .width(Width::Medium)
            .display_name("Enable Error Context Headers"),
        )
}

/// The definition for a connector direction.
pub fn config_def_for(kind: ConnectorType) -> ConfigDef {
    match kind {
        ConnectorType::Source => source_config_def(),
        ConnectorType::Sink => sink_config_def(),
    }
}

/// Checks only a sink does: exactly one of topics / topics.regex, and the DLQ not among them.
/// Returns (key, message) pairs to add to the validation result.
pub fn sink_cross_checks(config: &ConfigMap) -> Vec<(String, String)> {
    let topics: Vec<&str> = config
        .get("topics")
        .map(|t| t.split(',').map(str::trim).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let regex = config.get("topics.regex").map(|s| s.trim()).unwrap_or("");
    let mut out = Vec::new();
    let both = |msg: &str, out: &mut Vec<(String, String)>| {
        out.push(("topics".into(), msg.to_owned()));
        out.push(("topics.regex".into(), msg.to_owned()));
    };
    if !topics.is_empty() && !regex.is_empty() {
        both(
            "topics and topics.regex are mutually exclusive options, but both are set.",
            &mut out,
        );
    } else if topics.is_empty() && regex.is_empty() {
        both("Must configure one of topics or topics.regex", &mut out);
    }
    let dlq = config
        .get("errors.deadletterqueue.topic.name")
        .map(|s| s.trim())
        .unwrap_or("");
    if !dlq.is_empty() && topics.contains(&dlq) {
        out.push((
            "topics".into(),
            format!(
                "The DLQ topic '{dlq}' may not be included in the list of topics ('topics={}') consumed by the connector",
                config.get("topics").map(String::as_str).unwrap_or("")
            ),
        ));
    }
    out
}

/// `tasks.max` of a connector config (at least 1): its value, or the declared default
/// when it is unset or malformed (a config read back from the config topic is not validated).
pub fn tasks_max(config: &ConfigMap) -> usize {
    const KEY: &str = "tasks.max";
    let given = config
        .get(KEY)
        .map(|v| ConfigMap::from_iter([(KEY.to_owned(), v.clone())]));
    let declared = common_config_def()
        .key(KEY)
        .cloned()
        .expect("tasks.max is declared");
    let def = ConfigDef::new().define(declared);
    let parsed = given
        .and_then(|g| def.parse(&g).ok())
        .unwrap_or_else(|| def.parse(&ConfigMap::new()).expect("tasks.max has a default"));
    parsed.int(KEY).map_or(1, |n| n.max(1) as usize)
}

/// How a task treats records that fail conversion or transformation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorPolicy {
    /// `errors.tolerance=all`.
    pub tolerate_all: bool,
    /// `errors.log.enable`.
    pub log: bool,
    /// `errors.log.include.messages`.
    pub log_messages: bool,
    /// `errors.retry.timeout` in ms (0 none, -1 forever).
    pub retry_timeout_ms: i64,
    /// `errors.retry.delay.max.ms`.
    pub retry_delay_max_ms: i64,
    /// Sink DLQ topic, when set.
    pub dlq_topic: Option<String>,
    /// DLQ replication factor.
    pub dlq_replication_factor: i32,
    /// Add `__connect.errors.*` headers to DLQ records.
    pub dlq_context_headers: bool,
}

/// The `errors.*` keys of the sink definition (a superset of the source's), as declared there.
fn error_config_def() -> ConfigDef {
    sink_config_def()
        .keys()
        .filter(|k| k.name.starts_with("errors."))
        .fold(ConfigDef::new(), |def, k| def.define(k.clone()))
}

impl ErrorPolicy {
    /// Reads the errors.* options of a connector config (assumed validated), through their
    /// declarations: an unset option takes its declared default, and so does a malformed one.
    pub fn from_config(config: &ConfigMap) -> Self {
        let def = error_config_def();
        let mut given: ConfigMap = config
            .iter()
            .filter(|(k, _)| def.key(k).is_some())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let parsed = loop {
            match def.parse(&given) {
                Ok(p) => break p,
                Err(e) => {
                    let dropped = e.key.as_deref().and_then(|k| given.shift_remove(k));
                    assert!(dropped.is_some(), "errors.* defaults parse: {e}");
                }
            }
        };
        let long = |k: &str| parsed.long(k).expect("declared with a default");
        ErrorPolicy {
            tolerate_all: parsed
                .string("errors.tolerance")
                .is_some_and(|v| v.eq_ignore_ascii_case("all")),
            log: parsed.boolean("errors.log.enable"),
            log_messages: parsed.boolean("errors.log.include.messages"),
            retry_timeout_ms: long("errors.retry.timeout"),
            retry_delay_max_ms: long("errors.retry.delay.max.ms"),
            dlq_topic: parsed
                .string("errors.deadletterqueue.topic.name")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            dlq_replication_factor: parsed
                .int("errors.deadletterqueue.topic.replication.factor")
                .expect("declared with a default"),
            dlq_context_headers: parsed.boolean("errors.deadletterqueue.context.headers.enable"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        ferry_core::config::config_map(pairs)
    }

    #[test]
    fn sink_requires_exactly_one_topic_selector() {
        let none = sink_cross_checks(&cfg(&[]));
        assert_eq!(none[0].1, "Must configure one of topics or topics.regex");
        let both = sink_cross_checks(&cfg(&[("topics", "a"), ("topics.regex", "a.*")]));
        assert_eq!(both.len(), 2);
        let dlq = sink_cross_checks(&cfg(&[
            ("topics", "a,dlq"),
            ("errors.deadletterqueue.topic.name", "dlq"),
        ]));
        assert!(dlq[0].1.contains("The DLQ topic 'dlq' may not be included"));
        assert!(sink_cross_checks(&cfg(&[("topics", "a")])).is_empty());
    }

    #[test]
    fn common_def_validates_tasks_max_and_tolerance() {
        let v = common_config_def().validate(&cfg(&[
            ("name", "x"),
            ("connector.class", "C"),
            ("tasks.max", "0"),
            ("errors.tolerance", "some"),
        ]));
        let errs: Vec<_> = v.iter().flat_map(|c| c.errors.clone()).collect();
        assert!(errs
            .contains(&"Invalid value 0 for configuration tasks.max: Value must be at least 1".to_string()));
        assert!(errs
            .iter()
            .any(|e| e.starts_with("Invalid value some for configuration errors.tolerance")));
    }

    #[test]
    fn tasks_max_falls_back_to_its_declared_default() {
        assert_eq!(tasks_max(&cfg(&[("tasks.max", " 4 ")])), 4);
        for bad in ["0", "-3", "many", "99999999999"] {
            assert_eq!(tasks_max(&cfg(&[("tasks.max", bad)])), 1, "{bad}");
        }
        assert_eq!(tasks_max(&cfg(&[])), 1);
    }

    #[test]
    fn error_policy_defaults_are_the_declared_ones() {
        let p = ErrorPolicy::from_config(&cfg(&[
            ("errors.retry.timeout", "soon"),
            ("errors.log.enable", "TRUE"),
        ]));
        assert_eq!(
            p,
            ErrorPolicy {
                tolerate_all: false,
                log: true,
                log_messages: false,
                retry_timeout_ms: 0,
                retry_delay_max_ms: 60000,
                dlq_topic: None,
                dlq_replication_factor: 3,
                dlq_context_headers: false,
            }
        );
        let p = ErrorPolicy::from_config(&cfg(&[
            ("errors.retry.timeout", "-1"),
            ("errors.retry.delay.max.ms", "250"),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.tolerance", "ALL"),
        ]));
        assert_eq!(
            (
                p.retry_timeout_ms,
                p.retry_delay_max_ms,
                p.dlq_replication_factor,
                p.tolerate_all
            ),
            (-1, 250, 1, true)
        );
    }

    #[test]
    fn error_policy_reads_options() {
        let p = ErrorPolicy::from_config(&cfg(&[
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ]));
        assert!(p.tolerate_all && p.dlq_context_headers);
        assert_eq!(p.dlq_topic.as_deref(), Some("dlq"));
    }
}
