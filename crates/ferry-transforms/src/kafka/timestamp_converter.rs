//! `TimestampConverter$Key` / `TimestampConverter$Value`: converts between string, unix,
//! Date, Time and Timestamp representations, of a field or of the whole key/value.

use ferry_core::java::{self, JavaDateFormat, MILLIS_PER_DAY};
use ferry_core::schema::logical;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Schema, SchemaType, Struct, Transformation, Validator, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, field_value, map_get, map_put, replace_null_with_default_key,
    require_map, require_struct_or_null, SchemaCache, Side,
};

const PURPOSE: &str = "converting timestamp formats";

/// A timestamp representation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            "Timestamp" => Kind::Timestamp,
            _ => return None,
        })
    }

    fn schema(self, optional: bool) -> Schema {
        let b = match self {
            Kind::String => ferry_core::SchemaBuilder::new(SchemaType::String),
            Kind::Unix => ferry_core::SchemaBuilder::new(SchemaType::Int64),
            Kind::Date => Schema::date(),
            Kind::Time => Schema::time(),
            Kind::Timestamp => Schema::timestamp(),
        };
        b.set_optional(optional).build()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// Converts timestamps.
pub struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<JavaDateFormat>,
    precision: Precision,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl TimestampConverter {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        TimestampConverter {
            side,
            field: String::new(),
            target: Kind::Timestamp,
            format: None,
            precision: Precision::Millis,
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }

    /// Milliseconds since the epoch of a value in representation `kind`.
    fn to_raw(&self, kind: Kind, v: &Value) -> Result<i64, DataError> {
        match kind {
            Kind::String => {
                let Value::String(s) = v else {
                    return Err(DataError::new(format!(
                        "Expected string timestamp to be a String, but found {}",
                        java::class_string(v)
                    )));
                };
                let f = self.format.as_ref().ok_or_else(|| {
                    DataError::new("TimestampConverter requires format option to be specified when using string timestamps")
                })?;
                f.parse(s).ok_or_else(|| {
                    DataError::new(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        f.pattern()
                    ))
                })
            }
            Kind::Unix => {
                let Value::Int64(t) = v else {
                    return Err(DataError::new(format!(
                        "Expected Unix timestamp to be a Long, but found {}",
                        java::class_string(v)
                    )));
                };
                Ok(match self.precision {
                    Precision::Seconds => t.saturating_mul(1000),
                    Precision::Millis => *t,
                    Precision::Micros => t / 1000,
                    Precision::Nanos => t / 1_000_000,
                })
            }
            Kind::Date | Kind::Time | Kind::Timestamp => {
                let name = match kind {
                    Kind::Date => "Date",
                    Kind::Time => "Time",
                    _ => "Timestamp",
                };
                match (kind, v) {
                    (Kind::Date, Value::Int32(d)) => Ok(*d as i64 * MILLIS_PER_DAY),
                    (Kind::Time, Value::Int32(t)) => Ok(*t as i64),
                    (Kind::Timestamp, Value::Int64(t)) => Ok(*t),
                    _ => Err(DataError::new(format!(
                        "Expected {name} to be a java.util.Date, but found {}",
                        java::class_string(v)
                    ))),
                }
            }
        }
    }

    fn to_type(&self, millis: i64) -> Result<Value, DataError> {
        Ok(match self.target {
            Kind::String => match &self.format {
                Some(f) => Value::String(f.format(millis)),
                None => return Err(DataError::new(
                    "TimestampConverter requires format option to be specified when using string timestamps",
                )),
            },
            Kind::Unix => Value::Int64(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Millis => millis,
                Precision::Micros => millis.saturating_mul(1000),
                Precision::Nanos => millis.saturating_mul(1_000_000),
            }),
            Kind::Date => Value::Int32(millis.div_euclid(MILLIS_PER_DAY) as i32),
            Kind::Time => Value::Int32(millis.rem_euclid(MILLIS_PER_DAY) as i32),
            Kind::Timestamp => Value::Int64(millis),
        })
    }

    fn convert(&self, v: &Value, kind: Option<Kind>) -> Result<Value, ConnectError> {
        if v.is_null() {
            return Ok(Value::Null);
        }
        let kind = match kind {
            Some(k) => k,
            None => match v {
                Value::Int64(_) => Kind::Unix,
                Value::String(_) => Kind::String,
                other => {
                    return Err(DataError::new(format!(
                        "TimestampConverter does not support {} objects as timestamps",
                        java::class_string(other)
                    ))
                    .into())
                }
            },
        };
        let raw = self.to_raw(kind, v)?;
        Ok(self.to_type(raw)?)
    }

    fn kind_of_schema(schema: &Schema) -> Result<Kind, ConnectError> {
        match schema.name() {
            Some(logical::TIMESTAMP) => return Ok(Kind::Timestamp),
            Some(logical::DATE) => return Ok(Kind::Date),
            Some(logical::TIME) => return Ok(Kind::Time),
            _ => {}
        }
        match schema.schema_type() {
            SchemaType::String => Ok(Kind::String),
            SchemaType::Int64 => Ok(Kind::Unix),
            _ => Err(ConnectError::data(format!(
                "Schema {schema:?} does not correspond to a known timestamp type format"
            ))),
        }
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, ConnectError> {
        let mut b = copy_schema_basics(schema, Schema::struct_builder());
        for f in schema.fields() {
            let fs = if f.name() == self.field {
                self.target.schema(f.schema().is_optional())
            } else {
                f.schema().clone()
            };
            b = b.try_field(f.name(), fs)?;
        }
        if schema.is_optional() {
            b = b.optional();
        }
        let partial = b.build();
        if let Some(Value::Struct(d)) = schema.default_value() {
            let updated_default = self.convert_struct(d, &partial)?;
            return Ok(partial
                .to_builder()
                .default_value(Value::Struct(updated_default))
                .build());
        }
        Ok(partial)
    }

    fn convert_struct(&self, value: &Struct, updated: &Schema) -> Result<Struct, ConnectError> {
        let mut out = Struct::new(updated.clone());
        for f in value.schema().fields() {
            let v = field_value(value, f, self.replace_null_with_default);
            let v = if f.name() == self.field {
                self.convert(&v, Some(Self::kind_of_schema(f.schema())?))?
            } else {
                v
            };
            if let Some(uf) = updated.field(f.name()) {
                out.put_unchecked(uf.index(), v);
            }
        }
        Ok(out)
    }
}

impl Transformation for TimestampConverter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("field", ConfigType::String)
                    .default_value("")
                    .importance(Importance::High)
                    .doc("The field containing the timestamp, or empty if the entire value is a timestamp"),
            )
            .define(
                ConfigKey::new("target.type", ConfigType::String)
                    .validator(Validator::one_of(["string", "unix", "Date", "Time", "Timestamp"]))
                    .importance(Importance::High)
                    .doc("The desired timestamp representation: string, unix, Date, Time, or Timestamp"),
            )
            .define(
                ConfigKey::new("format", ConfigType::String)
                    .default_value("")
                    .importance(Importance::Medium)
                    .doc("A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string."),
            )
            .define(
                ConfigKey::new("unix.precision", ConfigType::String)
                    .default_value("milliseconds")
                    .validator(Validator::one_of(["nanoseconds", "microseconds", "milliseconds", "seconds"]))
                    .importance(Importance::Low)
                    .doc("The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.field = c.string("field").unwrap_or_default().to_owned();
        self.target = Kind::parse(c.string("target.type").unwrap_or_default())
            .ok_or_else(|| ConfigError::missing("target.type"))?;
        self.precision = match c.string("unix.precision") {
            Some("seconds") => Precision::Seconds,
            Some("microseconds") => Precision::Micros,
            Some("nanoseconds") => Precision::Nanos,
            _ => Precision::Millis,
        };
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        let pattern = c.string("format").unwrap_or_default();
        if self.target == Kind::String && pattern.trim().is_empty() {
            return Err(ConfigError::other(
                None,
                "TimestampConverter requires format option to be specified when using string timestamps",
            ));
        }
        self.format = if pattern.trim().is_empty() {
            None
        } else {
            Some(JavaDateFormat::new(pattern).map_err(|_| {
                ConfigError::other(
                    Some("format"),
                    format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}"),
                )
            })?)
        };
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        match side.schema(&record).cloned() {
            None => {
                let raw = side.value(&record);
                let out = if raw.is_null() || self.field.is_empty() {
                    self.convert(raw, None)?
                } else {
                    let map = require_map(raw, PURPOSE)?;
                    let mut out = map.clone();
                    let converted = self.convert(map_get(map, &self.field).unwrap_or(&Value::Null), None)?;
                    map_put(&mut out, &self.field, converted);
                    Value::Map(out)
                };
                side.set(&mut record, None, out);
            }
            Some(schema) => {
                if self.field.is_empty() {
                    let updated = self.target.schema(schema.is_optional());
                    let v = self.convert(side.value(&record), Some(Self::kind_of_schema(&schema)?))?;
                    side.set(&mut record, Some(updated), v);
                } else {
                    let value = require_struct_or_null(side.value(&record), PURPOSE)?;
                    let updated = cached_schema!(self.cache, &schema, self.updated_schema(&schema)?);
                    let out = match value {
                        None => Value::Null,
                        Some(s) => Value::Struct(self.convert_struct(s, &updated)?),
                    };
                    side.set(&mut record, Some(updated), out);
                }
            }
        }
        Ok(Some(record))
    }
}
