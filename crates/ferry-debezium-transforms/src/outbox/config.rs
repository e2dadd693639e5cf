//! Options of the outbox `EventRouter`.

use ferry_core::config::Width;
use ferry_core::java::{self, RegexReplace};
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance, Validator,
};

use super::json_schema::{EmptyArrayBehavior, FieldNameAdjustment, JsonSchemaData, NullBehavior};

pub(crate) const FIELD_EVENT_ID: &str = "table.field.event.id";
pub(crate) const FIELD_EVENT_KEY: &str = "table.field.event.key";
pub(crate) const FIELD_EVENT_TYPE: &str = "table.field.event.type";
pub(crate) const FIELD_PAYLOAD: &str = "table.field.event.payload";
pub(crate) const FIELD_EVENT_TIMESTAMP: &str = "table.field.event.timestamp";
pub(crate) const FIELDS_ADDITIONAL_PLACEMENT: &str = "table.fields.additional.placement";
pub(crate) const FIELDS_ADDITIONAL_MISSING: &str = "table.field.additional.missing";
pub(crate) const FIELD_SCHEMA_VERSION: &str = "table.field.event.schema.version";
pub(crate) const OPERATION_INVALID_BEHAVIOR: &str = "table.op.invalid.behavior";
pub(crate) const EXPAND_JSON_PAYLOAD: &str = "table.expand.json.payload";
pub(crate) const JSON_PAYLOAD_NULL_BEHAVIOR: &str = "table.json.payload.null.behavior";
pub(crate) const JSON_PAYLOAD_EMPTY_ARRAY_BEHAVIOR: &str = "table.json.payload.empty.array.behavior";
pub(crate) const ROUTE_BY_FIELD: &str = "route.by.field";
pub(crate) const ROUTE_TOPIC_REGEX: &str = "route.topic.regex";
pub(crate) const ROUTE_TOPIC_REPLACEMENT: &str = "route.topic.replacement";
pub(crate) const ROUTE_TOMBSTONE_ON_EMPTY_PAYLOAD: &str = "route.tombstone.on.empty.payload";
pub(crate) const TRACING_SPAN_CONTEXT_FIELD: &str = "tracing.span.context.field";
pub(crate) const TRACING_OPERATION_NAME: &str = "tracing.operation.name";
pub(crate) const TRACING_CONTEXT_FIELD_REQUIRED: &str = "tracing.with.context.field.only";

/// Removed option names still honoured when the current name is absent.
pub(crate) const LEGACY_ERROR_ON_MISSING: &str = "table.fields.additional.error.on.missing";
pub(crate) const LEGACY_EXPAND_JSON_PAYLOAD: &str = "debezium.expand.json.payload";
pub(crate) const LEGACY_OPERATION_INVALID_BEHAVIOR: &str = "debezium.op.invalid.behavior";
/// Read from the transform's options, as upstream's common connector option.
pub(crate) const FIELD_NAME_ADJUSTMENT_MODE: &str = "field.name.adjustment.mode";

/// What to do with an update of an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidOperation {
    /// Drop it, log a warning.
    Warn,
    /// Drop it, log an error.
    Error,
    /// Fail the task.
    Fatal,
}

/// Where an additional column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A record header.
    Header,
    /// A field of the value struct next to `payload`.
    Envelope,
    /// The Kafka partition (int32 column).
    Partition,
}

/// One `column:placement[:alias]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdditionalField {
    /// Column of the outbox table.
    pub field: String,
    /// Where it goes.
    pub placement: Placement,
    /// Header or field name.
    pub alias: String,
}

/// The parsed configuration.
#[derive(Debug, Clone)]
pub(crate) struct RouterConfig {
    pub field_event_id: String,
    pub field_event_key: String,
    pub field_payload: String,
    pub field_event_timestamp: Option<String>,
    pub field_schema_version: Option<String>,
    pub route_by_field: String,
    pub router: RegexReplace,
    pub tombstone_on_empty_payload: bool,
    pub invalid_operation: InvalidOperation,
    pub additional: Vec<AdditionalField>,
    pub ignore_missing_additional: bool,
    pub expand_json: Option<JsonSchemaData>,
}

fn enum_validator(values: &'static [&'static str]) -> Validator {
    Validator::custom(move |_, v| match v {
        ConfigValue::String(s) if values.iter().any(|x| x.eq_ignore_ascii_case(s.trim())) => Ok(()),
        _ => Err(format!("Value must be one of {}", values.join(", "))),
    })
}

const OP_BEHAVIORS: &[&str] = &["warn", "error", "fatal"];
const MISSING_BEHAVIORS: &[&str] = &["error", "ignore"];
const NULL_BEHAVIORS: &[&str] = &["ignore", "optional_bytes"];

fn key(name: &str, ty: ConfigType, group: &str, order: i32, display: &str) -> ConfigKey {
    ConfigKey::new(name, ty)
        .group(group, order)
        .width(Width::Medium)
        .display_name(display)
}

/// The option definitions, grouped as upstream groups them (Table, Router, Tracing).
pub(crate) fn config_def() -> ConfigDef {
    let s = ConfigType::String;
    let t = "Table";
    ConfigDef::new()
        .define(
            key(FIELD_EVENT_ID, s, t, 1, "Event ID Field")
                .default_value("id")
                .importance(Importance::Low)
                .doc("Outbox column holding the event id, sent as the `id` header."),
        )
        .define(
            key(FIELD_EVENT_KEY, s, t, 2, "Event Key Field")
                .default_value("aggregateid")
                .importance(Importance::Low)
                .doc("Outbox column whose value becomes the record key."),
        )
        .define(
            key(FIELD_EVENT_TYPE, s, t, 3, "Event Type Field")
                .default_value("type")
                .importance(Importance::Low)
                .doc("Outbox column holding the event type (place it with table.fields.additional.placement)."),
        )
        .define(
            key(FIELD_PAYLOAD, s, t, 4, "Event Payload Field")
                .default_value("payload")
                .importance(Importance::Low)
                .doc("Outbox column whose value becomes the record value."),
        )
        .define(
            key(FIELD_EVENT_TIMESTAMP, s, t, 5, "Event Timestamp Field")
                .default_null()
                .importance(Importance::Medium)
                .doc("Outbox column used as the record timestamp; the change event's ts_ms when unset."),
        )
        .define(
            key(FIELDS_ADDITIONAL_PLACEMENT, ConfigType::List, t, 6, "Settings for each additional column in the outbox table")
                .default_null()
                .importance(Importance::High)
                .validator(Validator::custom(|_, v| match v {
                    ConfigValue::List(items) => check_placements(items),
                    _ => Ok(()),
                }))
                .doc("Comma-separated column:placement[:alias] entries; placement is header, envelope or partition."),
        )
        .define(
            key(FIELDS_ADDITIONAL_MISSING, s, t, 7, "Behavior when an additional field is missing in the change data")
                .default_value("error")
                .importance(Importance::Medium)
                .validator(enum_validator(MISSING_BEHAVIORS))
                .doc("error fails the record when an additional column is absent; ignore skips it."),
        )
        .define(
            key(FIELD_SCHEMA_VERSION, s, t, 8, "Event Schema Version Field")
                .default_null()
                .importance(Importance::Low)
                .doc("Outbox column (int32) whose value becomes the version of the value schema."),
        )
        .define(
            key(OPERATION_INVALID_BEHAVIOR, s, t, 9, "Behavior when capturing an unexpected outbox event")
                .default_value("warn")
                .importance(Importance::Medium)
                .validator(enum_validator(OP_BEHAVIORS))
                .doc("What an update of an outbox row does: warn or error (logged and dropped), or fatal."),
        )
        .define(
            key(EXPAND_JSON_PAYLOAD, ConfigType::Boolean, t, 10, "Expand Payload escaped string as real JSON")
                .default_value("false")
                .importance(Importance::Medium)
                .doc("Parse a JSON text payload into structured data with an inferred schema."),
        )
        .define(
            key(JSON_PAYLOAD_NULL_BEHAVIOR, s, t, 11, "Behavior when json payload including null value")
                .default_value("ignore")
                .importance(Importance::Medium)
                .validator(enum_validator(NULL_BEHAVIORS))
                .doc("ignore leaves null JSON fields out; optional_bytes types them as optional bytes."),
        )
        .define(
            key(ROUTE_BY_FIELD, s, "Router", 1, "Field to route events by")
                .default_value("aggregatetype")
                .importance(Importance::High)
                .doc("Outbox column whose value, through the regex and replacement, names the topic."),
        )
        .define(
            key(ROUTE_TOPIC_REGEX, s, "Router", 2, "The name of the routed topic")
                .default_value("(?<routedByValue>.*)")
                .importance(Importance::Low)
                .validator(Validator::custom(|_, v| match v {
                    ConfigValue::String(p) => java::JavaPattern::compile(p)
                        .map(|_| ())
                        .map_err(|e| format!("A valid regular expressions is expected, but {e}")),
                    _ => Ok(()),
                }))
                .doc("Regex matched against the routing column's value."),
        )
        .define(
            key(ROUTE_TOPIC_REPLACEMENT, s, "Router", 3, "The name of the routed topic")
                .default_value("outbox.event.${routedByValue}")
                .importance(Importance::High)
                .doc("Topic name built from the regex groups, e.g. ${routedByValue}.events."),
        )
        .define(
            key(ROUTE_TOMBSTONE_ON_EMPTY_PAYLOAD, ConfigType::Boolean, "Router", 4, "Empty payloads cause a tombstone message")
                .default_value("false")
                .importance(Importance::High)
                .doc("Emit a tombstone when the payload is null or blank."),
        )
        .define(
            key(TRACING_SPAN_CONTEXT_FIELD, s, "Tracing", 1, "Serialized tracing span context field")
                .default_value("tracingspancontext")
                .importance(Importance::High)
                .doc("Column holding a serialized tracing span context (accepted; tracing is not performed)."),
        )
        .define(
            key(TRACING_OPERATION_NAME, s, "Tracing", 2, "Tracing operation name")
                .default_value("debezium-read")
                .importance(Importance::High)
                .doc("Name of the processing span (accepted; tracing is not performed)."),
        )
        .define(
            key(TRACING_CONTEXT_FIELD_REQUIRED, ConfigType::Boolean, "Tracing", 3, "Trace only events with context field present")
                .default_value("false")
                .importance(Importance::High)
                .doc("Trace only events carrying a span context (accepted; tracing is not performed)."),
        )
}

fn check_placements(items: &[String]) -> Result<(), String> {
    let bad = items.is_empty()
        || items.iter().any(|m| {
            let parts = java::collections::split(m, ':');
            !(parts.len() == 2 || parts.len() == 3)
        });
    if bad {
        return Err(format!(
            "A comma-separated list of valid String pairs or trios is expected but got: {}",
            java::collections::list_to_string(items)
        ));
    }
    Ok(())
}

fn parse_placement(value: &str) -> Option<Placement> {
    let v = value.trim();
    [
        ("header", Placement::Header),
        ("envelope", Placement::Envelope),
        ("partition", Placement::Partition),
    ]
    .into_iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(v))
    .map(|(_, p)| p)
}

/// Parses `table.fields.additional.placement` entries.
pub(crate) fn parse_additional(items: &[String]) -> Result<Vec<AdditionalField>, ConfigError> {
    items
        .iter()
        .map(|entry| {
            let parts = java::collections::split(entry, ':');
            let field = parts.first().map_or("", |p| p.trim()).to_owned();
            let placement = parts.get(1).and_then(|p| parse_placement(p)).ok_or_else(|| {
                ConfigError::invalid(
                    FIELDS_ADDITIONAL_PLACEMENT,
                    items.join(","),
                    format!("Unknown placement in '{entry}': expected header, envelope or partition"),
                )
            })?;
            let alias = parts
                .get(2)
                .map_or_else(|| field.clone(), |a| a.trim().to_owned());
            Ok(AdditionalField {
                field,
                placement,
                alias,
            })
        })
        .collect()
}

/// A string option that may still be given under its removed name.
fn with_fallback<'a>(props: &'a ConfigMap, current: &str, legacy: &str) -> Option<&'a str> {
    if props.contains_key(current) {
        return None;
    }
    let v = props.get(legacy)?;
    tracing::warn!("Option '{legacy}' is deprecated; use '{current}' instead");
    Some(v.trim())
}

fn parse_bool(key: &str, raw: &str) -> Result<bool, ConfigError> {
    match ferry_core::config::parse_type(key, raw, ConfigType::Boolean)? {
        ConfigValue::Boolean(b) => Ok(b),
        _ => Ok(false),
    }
}

impl RouterConfig {
    /// Parses and validates the transform's options.
    pub(crate) fn parse(props: &ConfigMap) -> Result<Self, ConfigError> {
        let def = config_def();
        let p = def.parse(props)?;
        let string = |k: &str| p.string(k).unwrap_or_default().to_owned();

        let invalid_raw = with_fallback(
            props,
            OPERATION_INVALID_BEHAVIOR,
            LEGACY_OPERATION_INVALID_BEHAVIOR,
        )
        .map(str::to_owned)
        .unwrap_or_else(|| string(OPERATION_INVALID_BEHAVIOR));
        let invalid_operation = match invalid_raw.trim().to_ascii_lowercase().as_str() {
            "warn" => InvalidOperation::Warn,
            "error" => InvalidOperation::Error,
            "fatal" => InvalidOperation::Fatal,
            _ => {
                return Err(ConfigError::invalid(
                    LEGACY_OPERATION_INVALID_BEHAVIOR,
                    &invalid_raw,
                    "Value must be one of warn, error, fatal",
                ))
            }
        };

        let expand = match with_fallback(props, EXPAND_JSON_PAYLOAD, LEGACY_EXPAND_JSON_PAYLOAD) {
            Some(raw) => parse_bool(LEGACY_EXPAND_JSON_PAYLOAD, raw)?,
            None => p.boolean(EXPAND_JSON_PAYLOAD),
        };
        let expand_json = expand.then(|| {
            let nulls = if string(JSON_PAYLOAD_NULL_BEHAVIOR).eq_ignore_ascii_case("optional_bytes") {
                NullBehavior::OptionalBytes
            } else {
                NullBehavior::Ignore
            };
            // A later Debezium's setting, not listed (3.6.3 has none) but honoured.
            let empty = if props
                .get(JSON_PAYLOAD_EMPTY_ARRAY_BEHAVIOR)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("optional_string"))
            {
                EmptyArrayBehavior::OptionalString
            } else {
                EmptyArrayBehavior::Ignore
            };
            let names = match props.get(FIELD_NAME_ADJUSTMENT_MODE).map(|s| s.trim().to_ascii_lowercase()) {
                Some(m) if m == "avro" => FieldNameAdjustment::Avro,
                Some(m) if m == "avro_unicode" => {
                    tracing::warn!("field.name.adjustment.mode=avro_unicode is not supported by the outbox router; names are kept");
                    FieldNameAdjustment::None
                }
                _ => FieldNameAdjustment::None,
            };
            JsonSchemaData::new(nulls, empty, names)
        });

        let ignore_missing_additional = if props.contains_key(FIELDS_ADDITIONAL_MISSING) {
            string(FIELDS_ADDITIONAL_MISSING).eq_ignore_ascii_case("ignore")
        } else if let Some(raw) = props.get(LEGACY_ERROR_ON_MISSING) {
            tracing::warn!(
                "Option '{LEGACY_ERROR_ON_MISSING}' is deprecated; use '{FIELDS_ADDITIONAL_MISSING}' instead"
            );
            !parse_bool(LEGACY_ERROR_ON_MISSING, raw)?
        } else {
            false
        };

        let regex = string(ROUTE_TOPIC_REGEX);
        let router = RegexReplace::new(&regex, &string(ROUTE_TOPIC_REPLACEMENT))
            .map_err(|e| ConfigError::invalid(ROUTE_TOPIC_REGEX, &regex, e.to_string()))?;

        Ok(RouterConfig {
            field_event_id: string(FIELD_EVENT_ID),
            field_event_key: string(FIELD_EVENT_KEY),
            field_payload: string(FIELD_PAYLOAD),
            field_event_timestamp: p.string(FIELD_EVENT_TIMESTAMP).map(str::to_owned),
            field_schema_version: p.string(FIELD_SCHEMA_VERSION).map(str::to_owned),
            route_by_field: string(ROUTE_BY_FIELD),
            router,
            tombstone_on_empty_payload: p.boolean(ROUTE_TOMBSTONE_ON_EMPTY_PAYLOAD),
            invalid_operation,
            additional: parse_additional(p.list(FIELDS_ADDITIONAL_PLACEMENT))?,
            ignore_missing_additional,
            expand_json,
        })
    }
}
