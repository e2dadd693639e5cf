//! `io.debezium.transforms.ExtractNewRecordState`: replaces a change event by the
//! row state it carries, with configurable delete/tombstone handling and metadata.

mod config;
pub mod field_ref;

use std::sync::Arc;

use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConnectError, DataError, Record, Schema, SchemaType, Struct,
    Transformation, Value,
};

use config::UnwrapConfig;
pub use config::{DeleteAction, DeleteHandling, TombstoneAction};
use field_ref::make_headers;

use crate::envelope::{self, AFTER, BEFORE};
use crate::util::{self, copy_schema_basics, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.ExtractNewRecordState";
/// Field added in rewrite modes.
pub const DELETED_FIELD: &str = "__deleted";

const SCHEMA_CACHE_SIZE: usize = 64;

/// The record-state extractor.
#[derive(Debug, Default)]
pub struct ExtractNewRecordState {
    config: Option<UnwrapConfig>,
    caches: Caches,
}

#[derive(Debug)]
struct Caches {
    /// Row schema → row schema with `__deleted`.
    deleted: SchemaCache<Schema, Schema>,
    /// (row schema, op) → row schema with `add.fields`.
    added: SchemaCache<(Schema, Option<String>), Schema>,
    /// (schema, dropped names) → schema without them.
    dropped: SchemaCache<(Schema, Arc<[String]>), Schema>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            deleted: SchemaCache::new(SCHEMA_CACHE_SIZE),
            added: SchemaCache::new(SCHEMA_CACHE_SIZE),
            dropped: SchemaCache::new(SCHEMA_CACHE_SIZE),
        }
    }
}

impl ExtractNewRecordState {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Moves the `before`/`after` row out of the envelope value, returning it and the
/// envelope (whose row slot is then null unless `keep` asks for a copy).
fn take_state(value: Value, index: usize, keep: bool) -> Result<(Value, Struct), DataError> {
    let env = match value {
        Value::Struct(s) => s,
        other => return Err(util::require_struct(&other, "field extraction").unwrap_err()),
    };
    if keep {
        let state = env.get_index(index).cloned().unwrap_or_default();
        return Ok((state, env));
    }
    let schema = env.schema().clone();
    let mut values = env.into_values();
    let state = values.get_mut(index).map(std::mem::take).unwrap_or_default();
    Ok((state, Struct::from_values(schema, values)?))
}

/// Kafka's `InsertField` with `static.field=__deleted`: appends an optional string.
fn insert_deleted(
    record: &mut Record,
    deleted: bool,
    replace_null_with_default: bool,
    cache: &mut SchemaCache<Schema, Schema>,
) -> Result<(), DataError> {
    let Value::Struct(row) = std::mem::take(&mut record.value) else {
        return Ok(());
    };
    let schema = cache.get_or_try_insert(row.schema(), || {
        let mut b = copy_schema_basics(row.schema(), SchemaType::Struct);
        for f in row.schema().fields() {
            b = b.field(f.name(), f.schema().clone());
        }
        b.try_field(DELETED_FIELD, Schema::optional_string())
            .map(|b| b.build())
    })?;
    let defaults: Vec<Option<Value>> = if replace_null_with_default {
        row.schema()
            .fields()
            .iter()
            .map(|f| f.schema().default_value().cloned())
            .collect()
    } else {
        Vec::new()
    };
    let mut values = row.into_values();
    for (v, d) in values.iter_mut().zip(defaults) {
        if let (Value::Null, Some(d)) = (&*v, d) {
            *v = d;
        }
    }
    values.push(Value::from(if deleted { "true" } else { "false" }));
    record.value = Value::Struct(Struct::from_values(schema.clone(), values)?);
    record.value_schema = Some(schema);
    Ok(())
}

fn set_topic(record: &mut Record, topic: Option<&str>) {
    if let Some(t) = topic.filter(|t| !java::collections::is_blank(t)) {
        record.topic = t.into();
    }
}

impl ExtractNewRecordState {
    fn add_fields(
        cfg: &UnwrapConfig,
        caches: &mut Caches,
        env: &Struct,
        record: &mut Record,
    ) -> Result<(), DataError> {
        let Value::Struct(row) = std::mem::take(&mut record.value) else {
            let found = std::mem::take(&mut record.value);
            return Err(util::require_struct(&found, "source field insertion").unwrap_err());
        };
        let op = util::get_string(env, envelope::OP)?;
        let present: Vec<Option<Schema>> = cfg
            .fields
            .iter()
            .map(|r| r.schema(env.schema()))
            .collect::<Result<_, _>>()?;
        let key = (row.schema().clone(), op.map(str::to_owned));
        let schema = caches.added.get_or_try_insert(&key, || {
            let mut b = copy_schema_basics(row.schema(), SchemaType::Struct);
            for f in row.schema().fields() {
                b = b.field(f.name(), f.schema().clone());
            }
            for (r, s) in cfg.fields.iter().zip(&present) {
                if let Some(s) = s {
                    b = b.try_field(r.new_name.clone(), s.clone())?;
                }
            }
            Ok::<_, DataError>(b.build())
        })?;
        let mut values = row.into_values();
        values.resize(schema.fields().len(), Value::Null);
        let mut out = Struct::from_values(schema.clone(), values)?;
        for (r, s) in cfg.fields.iter().zip(&present) {
            if s.is_some() {
                out.put(&r.new_name, r.value(env)?)?;
            }
        }
        record.value = Value::Struct(out);
        record.value_schema = Some(schema);
        Ok(())
    }

    fn drop_fields(cfg: &UnwrapConfig, caches: &mut Caches, record: &mut Record) -> Result<(), DataError> {
        let Some(header_name) = &cfg.drop_fields_header else {
            return Ok(());
        };
        let Some(header) = record.headers.iter().find(|h| &h.key == header_name) else {
            return Ok(());
        };
        let names: Vec<String> = match &header.value {
            Value::Null => return Ok(()),
            Value::Array(items) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| DataError::new("The drop-fields header must hold a list of strings"))
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(DataError::new(
                    "The drop-fields header must hold a list of strings",
                ))
            }
        };
        if names.is_empty() {
            return Ok(());
        }
        if cfg.drop_fields_from_key && !record.key.is_null() {
            if let Some(schema) = &record.key_schema {
                let drop = fields_to_drop(cfg, schema, &names);
                if !drop.is_empty() {
                    let (s, v) = remove_fields(caches, schema, std::mem::take(&mut record.key), drop)?;
                    record.key_schema = Some(s);
                    record.key = v;
                }
            }
        }
        if let Some(schema) = &record.value_schema {
            let drop = fields_to_drop(cfg, schema, &names);
            if !drop.is_empty() && !record.value.is_null() {
                let (s, v) = remove_fields(caches, schema, std::mem::take(&mut record.value), drop)?;
                record.value_schema = Some(s);
                record.value = v;
            }
        }
        Ok(())
    }
}

fn fields_to_drop(cfg: &UnwrapConfig, schema: &Schema, names: &[String]) -> Vec<String> {
    if !cfg.drop_fields_keep_schema_compatible {
        return names.to_vec();
    }
    schema
        .fields()
        .iter()
        .filter(|f| f.schema().is_optional() && names.iter().any(|n| n == f.name()))
        .map(|f| f.name().to_owned())
        .collect()
}

/// Kafka's `ReplaceField` with `exclude`: the struct without the listed fields.
fn remove_fields(
    caches: &mut Caches,
    schema: &Schema,
    value: Value,
    exclude: Vec<String>,
) -> Result<(Schema, Value), DataError> {
    let row = match value {
        Value::Struct(s) => s,
        other => return Err(util::require_struct(&other, "field replacement").unwrap_err()),
    };
    let key = (schema.clone(), Arc::<[String]>::from(exclude));
    let out_schema = caches.dropped.get_or_try_insert(&key, || {
        let mut b = copy_schema_basics(schema, SchemaType::Struct);
        for f in schema.fields() {
            if !key.1.iter().any(|n| n == f.name()) {
                b = b.field(f.name(), f.schema().clone());
            }
        }
        Ok::<_, DataError>(b.build())
    })?;
    let mut out = Struct::new(out_schema.clone());
    for f in out_schema.fields() {
        let v = util::get(&row, f.name())?.clone();
        out.put(f.name(), v)?;
    }
    Ok((out_schema, Value::Struct(out)))
}

impl Transformation for ExtractNewRecordState {
    fn config_def(&self) -> ConfigDef {
        config::config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        self.config = Some(UnwrapConfig::parse(config)?);
        self.caches = Caches::default();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let ExtractNewRecordState { config, caches } = self;
        let cfg = config
            .as_ref()
            .ok_or_else(|| ConnectError::config("ExtractNewRecordState used before configure"))?;

        let is_tombstone = record.value.is_null();
        let is_envelope = envelope::is_envelope(record.value_schema.as_ref());
        if (is_envelope || is_tombstone) && !cfg.headers.is_empty() {
            let env = if is_tombstone {
                None
            } else {
                Some(util::require_struct(&record.value, "header insertion")?)
            };
            for h in make_headers(&cfg.headers, env)? {
                record.headers.add(h.key, h.schema, h.value);
            }
        }
        if is_tombstone {
            return Ok(match cfg.handling.tombstone {
                TombstoneAction::Drop => None,
                TombstoneAction::Keep => Some(record),
            });
        }
        let Some(env_schema) = record.value_schema.clone().filter(|_| is_envelope) else {
            return Ok(Some(record));
        };

        let after_field = envelope::state_field(&env_schema, AFTER)?;
        let env = util::require_struct(&record.value, "field extraction")?;
        let after_null = env.get_index(after_field.index()).is_none_or(Value::is_null);

        if !after_null {
            let (after, env) = take_state(
                std::mem::take(&mut record.value),
                after_field.index(),
                cfg.refs_read_state,
            )?;
            record.value_schema = Some(after_field.schema().clone());
            record.value = after;
            if cfg.handling.rewrite {
                insert_deleted(
                    &mut record,
                    false,
                    cfg.replace_null_with_default,
                    &mut caches.deleted,
                )?;
            }
            if let Some(field) = &cfg.route_by_field {
                let row = util::require_struct(
                    &record.value,
                    "Read record to set topic routing for CREATE / UPDATE",
                )?;
                let topic = util::get_string(row, field)?.map(str::to_owned);
                set_topic(&mut record, topic.as_deref());
            }
            Self::add_fields(cfg, caches, &env, &mut record)?;
            Self::drop_fields(cfg, caches, &mut record)?;
            return Ok(Some(record));
        }

        let before_field = envelope::state_field(&env_schema, BEFORE)?;
        if env.get_index(before_field.index()).is_none_or(Value::is_null) {
            tracing::trace!("Truncate event arrived and requested to be dropped");
            return Ok(None);
        }
        let topic = match &cfg.route_by_field {
            Some(field) => {
                let before = util::get_struct(env, BEFORE)?
                    .ok_or_else(|| DataError::new("The delete event has no before state"))?;
                util::get_string(before, field)?.map(str::to_owned)
            }
            None => None,
        };

        let mut original: Option<Struct> = None;
        match cfg.handling.delete {
            DeleteAction::Drop => {
                tracing::trace!(key = ?record.key, "Delete message requested to be dropped");
                return Ok(None);
            }
            DeleteAction::Tombstone => {
                record.value_schema = Some(after_field.schema().clone());
                record.value = Value::Null;
            }
            DeleteAction::ToTombstone => {
                record.value_schema = None;
                record.value = Value::Null;
            }
            DeleteAction::Rewrite => {
                let (before, env) = take_state(
                    std::mem::take(&mut record.value),
                    before_field.index(),
                    cfg.refs_read_state,
                )?;
                record.value_schema = Some(before_field.schema().clone());
                record.value = before;
                insert_deleted(
                    &mut record,
                    true,
                    cfg.replace_null_with_default,
                    &mut caches.deleted,
                )?;
                original = Some(env);
            }
        }
        set_topic(&mut record, topic.as_deref());
        Self::drop_fields(cfg, caches, &mut record)?;
        if let (Some(env), false) = (&original, record.value.is_null()) {
            Self::add_fields(cfg, caches, env, &mut record)?;
        }
        Ok(Some(record))
    }
}
