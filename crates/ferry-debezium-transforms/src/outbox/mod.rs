//! `io.debezium.transforms.outbox.EventRouter`: turns change events of an outbox
//! table into the events themselves, routed to per-aggregate topics.

mod config;
pub mod json_schema;

use std::collections::HashMap;
use std::sync::Arc;

use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConnectError, Record, Schema, Struct, Transformation, Value,
};

use config::RouterConfig;
pub use config::{AdditionalField, InvalidOperation, Placement};
use json_schema::JsonSchemaData;

use crate::envelope::{self, AFTER, TS_MS};
use crate::util::{self, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.outbox.EventRouter";

const PAYLOAD: &str = "payload";
const TIMESTAMP: &str = "io.debezium.time.Timestamp";
const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
const TOPIC_CACHE_SIZE: usize = 1024;

/// The outbox event router.
#[derive(Debug, Default)]
pub struct EventRouter {
    config: Option<RouterConfig>,
    caches: Caches,
}

#[derive(Debug)]
struct Caches {
    /// Value schemas keyed by payload schema (no schema version column).
    by_payload: SchemaCache<Schema, Schema>,
    /// Value schemas keyed by schema version (with a schema version column).
    by_version: SchemaCache<Option<i32>, Schema>,
    /// Routed topic names keyed by routing column value.
    topics: HashMap<String, Arc<str>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            by_payload: SchemaCache::new(10_000),
            by_version: SchemaCache::new(10_000),
            topics: HashMap::new(),
        }
    }
}

impl EventRouter {
    /// An unconfigured router.
    pub fn new() -> Self {
        Self::default()
    }
}

fn data(msg: impl Into<String>) -> ConnectError {
    ConnectError::data(msg)
}

/// `PREFIX.Value` → `PREFIX.<routed>.Value`, as upstream names the wrapped value.
fn value_schema_name(event_schema_name: Option<&str>, routed: &str) -> String {
    match event_schema_name {
        None => routed.to_owned(),
        Some(name) => match name.rfind('.') {
            Some(dot) => format!("{}{routed}.{}", &name[..=dot], &name[dot + 1..]),
            None => format!("{routed}.{name}"),
        },
    }
}

fn build_value_schema(
    cfg: &RouterConfig,
    payload_schema: &Schema,
    event_schema: &Schema,
    routed: &str,
    version: Option<Option<i32>>,
) -> Result<Schema, ConnectError> {
    let mut b = Schema::struct_builder()
        .name(value_schema_name(event_schema.name(), routed))
        .field(PAYLOAD, payload_schema.clone());
    for af in cfg
        .additional
        .iter()
        .filter(|a| a.placement == Placement::Envelope)
    {
        match event_schema.field(&af.field) {
            Some(f) => b = b.try_field(af.alias.clone(), f.schema().clone())?,
            None if cfg.ignore_missing_additional => {}
            None => return Err(data(format!("Unable to find field {} in event", af.field))),
        }
    }
    if let Some(v) = version {
        b = b.set_version(v);
    }
    Ok(b.build())
}

fn event_timestamp(cfg: &RouterConfig, env: &Struct, event: &Struct) -> Result<Option<i64>, ConnectError> {
    let Some(column) = cfg.field_event_timestamp.as_deref() else {
        return Ok(util::get_int64(env, TS_MS)?);
    };
    let field = event
        .schema()
        .field(column)
        .ok_or_else(|| data(format!("Unable to find timestamp field {column} in event")))?;
    let Some(ts) = util::get_int64(event, column)? else {
        return Ok(util::get_int64(env, TS_MS)?);
    };
    match field.schema().name() {
        None => Err(data(format!(
            "Unsupported field type {} (without logical schema name) for event timestamp",
            field.schema().schema_type().java_name()
        ))),
        Some(TIMESTAMP) => Ok(Some(ts)),
        Some(MICRO_TIMESTAMP) => Ok(Some(ts / 1_000)),
        Some(NANO_TIMESTAMP) => Ok(Some(ts / 1_000_000)),
        Some(other) => Err(data(format!(
            "Unsupported field type {other} for event timestamp"
        ))),
    }
}

/// Moves a column of the `after` struct out of an envelope value
/// (`Struct.get` semantics: the column default replaces null).
fn take_column(envelope: Value, after_index: usize, column: &str) -> Value {
    let Value::Struct(env) = envelope else {
        return Value::Null;
    };
    let mut values = env.into_values();
    let Some(Value::Struct(after)) = values.get_mut(after_index).map(std::mem::take) else {
        return Value::Null;
    };
    let Some(field) = after.schema().field(column) else {
        return Value::Null;
    };
    let (index, default) = (field.index(), field.schema().default_value().cloned());
    let v = after.into_values().into_iter().nth(index).unwrap_or_default();
    match (v, default) {
        (Value::Null, Some(d)) => d,
        (v, _) => v,
    }
}

/// What an outbox row expands to.
enum Expanded {
    /// Not attempted or failed before a schema was inferred: keep the column as is.
    Kept,
    /// A schema was inferred but the data did not convert (upstream then emits
    /// the text with the new schema); `None` schema means schemaless.
    SchemaOnly(Option<Schema>),
    /// Schema and structured value.
    Full(Option<Schema>, Value),
}

fn expand(json: &JsonSchemaData, column: &str, text: &str) -> Expanded {
    let parsed = match JsonSchemaData::parse(text) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "JSON expansion failed");
            return Expanded::Kept;
        }
    };
    let schema = match json.to_schema(Some(column), &parsed) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "JSON expansion failed");
            return Expanded::Kept;
        }
    };
    let Some(s) = schema else {
        tracing::warn!("JSON expansion failed: the payload has no inferable schema");
        return Expanded::SchemaOnly(None);
    };
    match json.to_data(&parsed, &s) {
        Ok(v) => Expanded::Full(Some(s), v),
        Err(e) => {
            tracing::warn!(error = %e, "JSON expansion failed");
            Expanded::SchemaOnly(Some(s))
        }
    }
}

impl Transformation for EventRouter {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        self.config = Some(RouterConfig::parse(config)?);
        self.caches = Caches::default();
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        let EventRouter { config, caches } = self;
        let cfg = config
            .as_ref()
            .ok_or_else(|| ConnectError::config("EventRouter used before configure"))?;

        if record.value.is_null() {
            tracing::debug!(key = ?record.key, "Tombstone message ignored");
            return Ok(None);
        }
        let Some(envelope_schema) = record
            .value_schema
            .as_ref()
            .filter(|s| envelope::is_envelope(Some(s)))
            .cloned()
        else {
            return Ok(Some(record));
        };

        let Record {
            key: record_key,
            value,
            mut headers,
            position,
            ..
        } = record;
        let env = util::require_struct(&value, "Detect Debezium Operation")?;
        match envelope::operation(env)? {
            "d" => {
                tracing::debug!(key = ?record_key, "Delete message ignored");
                return Ok(None);
            }
            "u" => {
                match cfg.invalid_operation {
                    InvalidOperation::Warn => {
                        tracing::warn!(key = ?record_key, "Unexpected update message received and ignored")
                    }
                    InvalidOperation::Error => {
                        tracing::error!(key = ?record_key, "Unexpected update message received and ignored")
                    }
                    InvalidOperation::Fatal => {
                        return Err(ConnectError::fatal(format!(
                            "Unexpected update message received {}, fail.",
                            display_key(&record_key)
                        )))
                    }
                }
                return Ok(None);
            }
            _ => {}
        }

        let after_field = envelope::state_field(&envelope_schema, AFTER)?;
        let after_index = after_field.index();
        let event_schema = after_field.schema();
        let event = util::require_struct(
            env.get_index(after_index).unwrap_or(&Value::Null),
            "Read Outbox Event",
        )?;

        let payload_field = event_schema.field(&cfg.field_payload).ok_or_else(|| {
            data(format!(
                "Unable to find payload field {} in event",
                cfg.field_payload
            ))
        })?;
        let mut payload_schema = Some(payload_field.schema().clone());

        let timestamp = event_timestamp(cfg, env, event)?;

        let event_id = util::get(event, &cfg.field_event_id)?.clone();
        let id_schema = event_schema
            .field(&cfg.field_event_id)
            .ok_or_else(|| {
                data(format!(
                    "Unable to find event-id field {} in event",
                    cfg.field_event_id
                ))
            })?
            .schema()
            .clone();
        headers.add("id", Some(id_schema), event_id);

        let payload_ref = util::get(event, &cfg.field_payload)?;
        let mut expanded_value: Option<Value> = None;
        let mut unconverted = false;
        if let Some(json) = &cfg.expand_json {
            match payload_ref {
                Value::String(text) => match expand(json, &cfg.field_payload, text) {
                    Expanded::Kept => {}
                    Expanded::SchemaOnly(s) => {
                        unconverted = s.is_some();
                        payload_schema = s;
                    }
                    Expanded::Full(s, v) => {
                        payload_schema = s;
                        expanded_value = Some(v);
                    }
                },
                Value::Null => {}
                _ => tracing::warn!(
                    key = ?record_key,
                    "Expand JSON payload is turned on but payload is not a string"
                ),
            }
        }

        let only_headers = !cfg.additional.iter().any(|a| a.placement == Placement::Envelope);
        let struct_schema = if only_headers {
            None
        } else {
            let routed = util::get_string(event, &cfg.route_by_field)?.unwrap_or("null");
            let payload_schema = payload_schema
                .as_ref()
                .ok_or_else(|| data("fieldSchema for field payload cannot be null."))?;
            Some(match &cfg.field_schema_version {
                None => caches.by_payload.get_or_try_insert(payload_schema, || {
                    build_value_schema(cfg, payload_schema, event_schema, routed, None)
                })?,
                Some(column) => {
                    let version = util::get_int32(event, column)?;
                    caches.by_version.get_or_try_insert(&version, || {
                        build_value_schema(cfg, payload_schema, event_schema, routed, Some(version))
                    })?
                }
            })
        };

        let mut envelope_values: Vec<(&str, Value)> = Vec::new();
        let mut partition: Option<i32> = None;
        for af in &cfg.additional {
            if cfg.ignore_missing_additional && event_schema.field(&af.field).is_none() {
                continue;
            }
            match af.placement {
                Placement::Envelope => {
                    envelope_values.push((&af.alias, util::get(event, &af.field)?.clone()))
                }
                Placement::Header => {
                    let v = util::get(event, &af.field)?.clone();
                    let schema = event_schema.field(&af.field).map(|f| f.schema().clone());
                    headers.add(af.alias.clone(), schema, v);
                }
                Placement::Partition => partition = util::get_int32(event, &af.field)?,
            }
        }

        let key = util::get(event, &cfg.field_event_key)?.clone();
        let key_schema = event_schema
            .field(&cfg.field_event_key)
            .map_or_else(Schema::string, |f| f.schema().clone());

        let routed = util::get_string(event, &cfg.route_by_field)?
            .ok_or_else(|| data(format!("The routing field {} is null", cfg.route_by_field)))?;
        let topic = route_topic(cfg, &mut caches.topics, routed)?;

        let is_delete = match (&expanded_value, payload_ref) {
            (Some(_), _) => false,
            (None, Value::Null) => true,
            (None, Value::String(s)) => java::collections::is_blank(s),
            _ => false,
        };

        let payload = match expanded_value {
            Some(v) => v,
            None => take_column(value, after_index, &cfg.field_payload),
        };

        let (value_schema, value) = if is_delete && cfg.tombstone_on_empty_payload {
            (None, Value::Null)
        } else if let Some(schema) = struct_schema {
            let mut s = Struct::new(schema.clone());
            s.put(PAYLOAD, payload)?;
            for (alias, v) in envelope_values {
                s.put(alias, v)?;
            }
            (Some(schema), Value::Struct(s))
        } else {
            if unconverted {
                return Err(data(
                    "JSON expansion inferred a schema the payload could not be converted to",
                ));
            }
            (payload_schema, payload)
        };

        Ok(Some(Record {
            topic,
            kafka_partition: partition,
            key_schema: Some(key_schema),
            key,
            value_schema,
            value,
            timestamp,
            headers,
            position,
        }))
    }
}

fn route_topic(
    cfg: &RouterConfig,
    cache: &mut HashMap<String, Arc<str>>,
    routed: &str,
) -> Result<Arc<str>, ConnectError> {
    if let Some(t) = cache.get(routed) {
        return Ok(t.clone());
    }
    let topic: Arc<str> = match cfg.router.apply(routed).map_err(|e| data(e.to_string()))? {
        Some(t) => t.into(),
        None => routed.into(),
    };
    if cache.len() >= TOPIC_CACHE_SIZE {
        cache.clear();
    }
    cache.insert(routed.to_owned(), topic.clone());
    Ok(topic)
}

fn display_key(key: &Value) -> String {
    match key {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        other => format!("{other:?}"),
    }
}
