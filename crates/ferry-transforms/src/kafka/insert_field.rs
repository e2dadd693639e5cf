//! `InsertField$Key` / `InsertField$Value`: adds record metadata or a static value as fields.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Schema, Struct, Transformation, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, field_value, map_put, replace_null_with_default_key, require_map,
    require_struct, SchemaCache, Side,
};

const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str =
    "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default).";

#[derive(Clone, Debug, PartialEq)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<&str>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(n) = spec.strip_suffix('?') {
            Spec {
                name: n.into(),
                optional: true,
            }
        } else if let Some(n) = spec.strip_suffix('!') {
            Spec {
                name: n.into(),
                optional: false,
            }
        } else {
            Spec {
                name: spec.into(),
                optional: true,
            }
        })
    }
}

/// Inserts topic, partition, offset, timestamp and/or a static string into a struct or map.
pub struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl InsertField {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        InsertField {
            side,
            topic: None,
            partition: None,
            offset: None,
            timestamp: None,
            static_field: None,
            static_value: None,
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, DataError> {
        let mut b = copy_schema_basics(schema, Schema::struct_builder());
        for f in schema.fields() {
            b = b.try_field(f.name(), f.schema().clone())?;
        }
        let pick = |opt: bool, o: Schema, r: Schema| if opt { o } else { r };
        if let Some(s) = &self.topic {
            b = b.try_field(
                &s.name,
                pick(s.optional, Schema::optional_string(), Schema::string()),
            )?;
        }
        if let Some(s) = &self.partition {
            b = b.try_field(
                &s.name,
                pick(s.optional, Schema::optional_int32(), Schema::int32()),
            )?;
        }
        if let Some(s) = &self.offset {
            b = b.try_field(
                &s.name,
                pick(s.optional, Schema::optional_int64(), Schema::int64()),
            )?;
        }
        if let Some(s) = &self.timestamp {
            let ts = if s.optional {
                Schema::timestamp().optional().build()
            } else {
                Schema::timestamp().build()
            };
            b = b.try_field(&s.name, ts)?;
        }
        if let Some(s) = &self.static_field {
            b = b.try_field(
                &s.name,
                pick(s.optional, Schema::optional_string(), Schema::string()),
            )?;
        }
        Ok(b.build())
    }

    fn sink_offset(record: &Record) -> Result<i64, DataError> {
        record.kafka_offset().ok_or_else(|| {
            DataError::new(format!(
                "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
            ))
        })
    }

    /// The (name, value) pairs to insert into this record.
    fn insertions(&self, record: &Record) -> Result<Vec<(&str, Value)>, DataError> {
        let mut out = Vec::new();
        if let Some(s) = &self.topic {
            out.push((s.name.as_str(), Value::String(record.topic.to_string())));
        }
        if let (Some(s), Some(p)) = (&self.partition, record.kafka_partition) {
            out.push((s.name.as_str(), Value::Int32(p)));
        }
        if let Some(s) = &self.offset {
            out.push((s.name.as_str(), Value::Int64(Self::sink_offset(record)?)));
        }
        if let (Some(s), Some(ts)) = (&self.timestamp, record.timestamp) {
            out.push((s.name.as_str(), Value::Int64(ts)));
        }
        if let (Some(s), Some(v)) = (&self.static_field, &self.static_value) {
            out.push((s.name.as_str(), Value::String(v.clone())));
        }
        Ok(out)
    }
}

impl Transformation for InsertField {
    fn config_def(&self) -> ConfigDef {
        let opt = |name: &str, doc: String| {
            ConfigKey::new(name, ConfigType::String)
                .default_null()
                .importance(Importance::Medium)
                .doc(doc)
        };
        ConfigDef::new()
            .define(opt(
                "topic.field",
                format!("Field name for Kafka topic. {OPTIONALITY_DOC}"),
            ))
            .define(opt(
                "partition.field",
                format!("Field name for Kafka partition. {OPTIONALITY_DOC}"),
            ))
            .define(opt(
                "offset.field",
                format!(
                    "Field name for Kafka offset - only applicable to sink connectors.<br/>{OPTIONALITY_DOC}"
                ),
            ))
            .define(opt(
                "timestamp.field",
                format!("Field name for record timestamp. {OPTIONALITY_DOC}"),
            ))
            .define(opt(
                "static.field",
                format!("Field name for static data field. {OPTIONALITY_DOC}"),
            ))
            .define(opt(
                "static.value",
                "Static field value, if field name configured.".into(),
            ))
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.topic = Spec::parse(c.string("topic.field"));
        self.partition = Spec::parse(c.string("partition.field"));
        self.offset = Spec::parse(c.string("offset.field"));
        self.timestamp = Spec::parse(c.string("timestamp.field"));
        self.static_field = Spec::parse(c.string("static.field"));
        self.static_value = c.string("static.value").map(str::to_owned);
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        if self.topic.is_none()
            && self.partition.is_none()
            && self.offset.is_none()
            && self.timestamp.is_none()
            && self.static_field.is_none()
        {
            return Err(ConfigError::other(None, "No field insertion configured"));
        }
        if let (Some(f), None) = (&self.static_field, &self.static_value) {
            return Err(ConfigError::invalid(
                "static.value",
                "null",
                format!("No value specified for static field: {}", f.name),
            ));
        }
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.value(&record).is_null() {
            return Ok(Some(record));
        }
        let insertions = self.insertions(&record)?;
        let insertions: Vec<(String, Value)> =
            insertions.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        match side.schema(&record).cloned() {
            None => {
                let mut map = require_map(side.value(&record), PURPOSE)?.clone();
                for (k, v) in insertions {
                    map_put(&mut map, &k, v);
                }
                side.set(&mut record, None, Value::Map(map));
            }
            Some(_) => {
                let value = require_struct(side.value(&record), PURPOSE)?;
                let updated =
                    cached_schema!(self.cache, value.schema(), self.updated_schema(value.schema())?);
                let mut out = Struct::new(updated.clone());
                for f in value.schema().fields() {
                    out.put_unchecked(f.index(), field_value(value, f, self.replace_null_with_default));
                }
                for (k, v) in insertions {
                    if let Some(f) = updated.field(&k) {
                        out.put_unchecked(f.index(), v);
                    }
                }
                side.set(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }
}
