//! `Cast$Key` / `Cast$Value`: casts fields, or the whole key/value, to another primitive type.

use base64::Engine as _;
use bigdecimal::{BigDecimal, ToPrimitive};
use ferry_core::java::time::iso_format_for;
use ferry_core::java::{self, bigdecimal_to_string, double_to_string, float_to_string, MILLIS_PER_DAY};
use ferry_core::schema::logical;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, ConnectError, DataError,
    Importance, Record, Schema, SchemaBuilder, SchemaType, Struct, Transformation, Validator, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, field_value, replace_null_with_default_key, require_map,
    require_struct, SchemaCache, Side,
};

const PURPOSE: &str = "cast types";

/// Connect's schema types in `Schema.Type` order: the first nine can be cast from, the first eight to.
const TYPES: [SchemaType; 12] = [
    SchemaType::Int8,
    SchemaType::Int16,
    SchemaType::Int32,
    SchemaType::Int64,
    SchemaType::Float32,
    SchemaType::Float64,
    SchemaType::Boolean,
    SchemaType::String,
    SchemaType::Bytes,
    SchemaType::Array,
    SchemaType::Map,
    SchemaType::Struct,
];
const INPUT_TYPES: &[SchemaType] = TYPES.split_at(9).0;
const OUTPUT_TYPES: &[SchemaType] = TYPES.split_at(8).0;

fn type_list(types: &[SchemaType]) -> String {
    java::collections::list_to_string(types.iter().map(|t| t.java_name()))
}

fn type_from_java_name(name: &str) -> Option<SchemaType> {
    let upper = name.to_ascii_uppercase();
    TYPES.into_iter().find(|t| t.java_name() == upper)
}

fn valid_output(t: SchemaType) -> Result<SchemaType, ConfigError> {
    if OUTPUT_TYPES.contains(&t) {
        Ok(t)
    } else {
        Err(ConfigError::other(
            None,
            format!(
                "Cast transformation does not support casting to {t}; supported types are {}",
                type_list(OUTPUT_TYPES)
            ),
        ))
    }
}

/// Parsed `spec`: `(None, type)` is a whole-value cast.
type Casts = Vec<(Option<String>, SchemaType)>;

fn parse_field_types(mappings: &[String]) -> Result<Casts, ConfigError> {
    if mappings.is_empty() {
        return Err(ConfigError::other(
            None,
            "Must specify at least one field to cast.",
        ));
    }
    let mut m: Casts = Vec::new();
    let mut put = |k: Option<String>, t: SchemaType| {
        if let Some(slot) = m.iter_mut().find(|(f, _)| *f == k) {
            slot.1 = t;
        } else {
            m.push((k, t));
        }
    };
    let mut whole = false;
    for mapping in mappings {
        let parts = java::collections::split(mapping, ':');
        let invalid_type =
            |t: &str| ConfigError::other(None, format!("Invalid type found in casting spec: {t}"));
        match parts.len() {
            1 => {
                let t = parts[0].trim();
                put(
                    None,
                    valid_output(type_from_java_name(t).ok_or_else(|| invalid_type(t))?)?,
                );
                whole = true;
            }
            2 => {
                let t = parts[1].trim();
                let ty = valid_output(type_from_java_name(t).ok_or_else(|| invalid_type(t))?)?;
                put(Some(parts[0].trim().to_owned()), ty);
            }
            _ => {
                // Upstream reports this under the `renames` key (shared code with ReplaceField).
                return Err(ConfigError::invalid(
                    "renames",
                    java::collections::list_to_string(mappings),
                    format!("Invalid rename mapping: {mapping}"),
                ));
            }
        }
    }
    if whole && mappings.len() > 1 {
        return Err(ConfigError::other(
            None,
            "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec",
        ));
    }
    Ok(m)
}

/// Casts fields or the whole value.
pub struct Cast {
    side: Side,
    casts: Casts,
    whole: Option<SchemaType>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

impl Cast {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        Cast {
            side,
            casts: Vec::new(),
            whole: None,
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }

    fn cast_for(&self, field: &str) -> Option<SchemaType> {
        self.casts
            .iter()
            .find(|(f, _)| f.as_deref() == Some(field))
            .map(|(_, t)| *t)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, DataError> {
        let mut b = if let Some(t) = self.whole {
            copy_schema_basics(schema, SchemaBuilder::new(t))
        } else {
            let mut b = copy_schema_basics(schema, Schema::struct_builder());
            for f in schema.fields() {
                match self.cast_for(f.name()) {
                    Some(t) => {
                        let mut fb = SchemaBuilder::new(t).set_optional(f.schema().is_optional());
                        if let Some(d) = f.schema().default_value() {
                            fb = fb.default_value(cast_value(Some(f.schema()), d, t)?);
                        }
                        b = b.try_field(f.name(), fb.build())?;
                    }
                    None => b = b.try_field(f.name(), f.schema().clone())?,
                }
            }
            b
        };
        if schema.is_optional() {
            b = b.optional();
        }
        if let Some(d) = schema.default_value() {
            // As upstream, a struct default cannot be cast and fails.
            let t = self.whole.unwrap_or(SchemaType::Struct);
            b = b.default_value(cast_value(Some(schema), d, t)?);
        }
        Ok(b.build())
    }
}

fn out_of_range(v: &Value) -> DataError {
    DataError::new(format!(
        "Value ({}) was out of range for requested data type",
        java_to_string(v)
    ))
}

fn unexpected(v: &Value) -> DataError {
    DataError::new(format!(
        "Unexpected type in Cast transformation: {}",
        java::class_string(v)
    ))
}

/// Java `toString()` of a value (strings as is, bytes base64 as castToString does).
fn java_to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(x) => x.to_string(),
        Value::Int16(x) => x.to_string(),
        Value::Int32(x) => x.to_string(),
        Value::Int64(x) => x.to_string(),
        Value::Float32(x) => float_to_string(*x),
        Value::Float64(x) => double_to_string(*x),
        Value::String(s) => s.clone(),
        Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
        Value::Decimal(d) => bigdecimal_to_string(d),
        other => format!("{other:?}"),
    }
}

/// Low 64 bits of the integer part, as `BigDecimal.longValue()`.
fn decimal_long(d: &BigDecimal) -> i64 {
    let int = d.with_scale(0);
    if let Some(v) = int.to_i64() {
        return v;
    }
    let (bi, _) = int.as_bigint_and_exponent();
    let bytes = bi.to_signed_bytes_le();
    let fill = if bi.sign() == bigdecimal::num_bigint::Sign::Minus {
        0xff
    } else {
        0
    };
    let mut buf = [fill; 8];
    for (i, b) in bytes.iter().take(8).enumerate() {
        buf[i] = *b;
    }
    i64::from_le_bytes(buf)
}

enum Num {
    Long(i64),
    Float(f64),
}

fn as_number(v: &Value) -> Option<Num> {
    Some(match v {
        Value::Int8(x) => Num::Long(*x as i64),
        Value::Int16(x) => Num::Long(*x as i64),
        Value::Int32(x) => Num::Long(*x as i64),
        Value::Int64(x) => Num::Long(*x),
        Value::Float32(x) => Num::Float(*x as f64),
        Value::Float64(x) => Num::Float(*x),
        Value::Decimal(d) => Num::Long(decimal_long(d)),
        _ => return None,
    })
}

/// Java's `Double.parseDouble`/`Float.parseFloat` for decimal text.
fn parse_java_float<F: std::str::FromStr>(s: &str) -> Option<F> {
    let t = s.trim();
    let t = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    let t = match t {
        "NaN" => "NaN",
        "Infinity" | "+Infinity" => "inf",
        "-Infinity" => "-inf",
        _ if t.chars().any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E') => return None,
        _ => t,
    };
    t.parse().ok()
}

fn cast_int(v: &Value, bits: u32) -> Result<i64, DataError> {
    // Java narrows floating point through int (or long for 64 bits), then wraps.
    let wrap = |x: i64| match bits {
        8 => x as i8 as i64,
        16 => x as i16 as i64,
        32 => x as i32 as i64,
        _ => x,
    };
    match v {
        Value::Float32(_) | Value::Float64(_) => {
            let f = match as_number(v) {
                Some(Num::Float(f)) => f,
                _ => 0.0,
            };
            Ok(if bits == 64 {
                f as i64
            } else {
                wrap(f as i32 as i64)
            })
        }
        Value::Decimal(d) => Ok(wrap(decimal_long(d))),
        Value::Boolean(b) => Ok(*b as i64),
        Value::String(s) => {
            let parsed = match bits {
                8 => s.parse::<i8>().map(i64::from).ok(),
                16 => s.parse::<i16>().map(i64::from).ok(),
                32 => s.parse::<i32>().map(i64::from).ok(),
                _ => s.parse::<i64>().ok(),
            };
            parsed.ok_or_else(|| out_of_range(v))
        }
        _ => match as_number(v) {
            Some(Num::Long(x)) => Ok(wrap(x)),
            _ => Err(unexpected(v)),
        },
    }
}

fn cast_float(v: &Value) -> Result<f64, DataError> {
    match v {
        Value::Decimal(d) => Ok(d.to_f64().unwrap_or(f64::NAN)),
        Value::Boolean(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => parse_java_float::<f64>(s).ok_or_else(|| out_of_range(v)),
        _ => match as_number(v) {
            Some(Num::Long(x)) => Ok(x as f64),
            Some(Num::Float(f)) => Ok(f),
            None => Err(unexpected(v)),
        },
    }
}

/// Cast of one value (`castValueToType`).
fn cast_value(schema: Option<&Schema>, value: &Value, target: SchemaType) -> Result<Value, DataError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let inferred = match schema {
        Some(s) => s.schema_type(),
        None => match value {
            Value::Decimal(_) => {
                return Err(DataError::new(format!(
                    "Cast transformation was passed a value of type {} which is not supported by Connect's data API",
                    java::class_string(value)
                )))
            }
            v => v.inferred_type().unwrap_or(SchemaType::Struct),
        },
    };
    if !INPUT_TYPES.contains(&inferred) {
        return Err(DataError::new(format!(
            "Cast transformation does not support casting from {inferred}; supported types are {}",
            type_list(INPUT_TYPES)
        )));
    }
    // Date, Time and Timestamp are java.util.Date objects upstream: only the string cast sees them as dates.
    if target == SchemaType::String {
        if let Some(s) = schema {
            let millis = match (s.name(), value) {
                (Some(logical::DATE), Value::Int32(d)) => Some(*d as i64 * MILLIS_PER_DAY),
                (Some(logical::TIME), Value::Int32(t)) => Some(*t as i64),
                (Some(logical::TIMESTAMP), Value::Int64(t)) => Some(*t),
                _ => None,
            };
            if let Some(ms) = millis {
                return Ok(Value::String(iso_format_for(ms)));
            }
        }
    } else if let Some(s) = schema {
        if matches!(s.name(), Some(logical::DATE | logical::TIME | logical::TIMESTAMP))
            && !matches!(value, Value::Int32(_) | Value::Int64(_))
        {
            return Err(unexpected(value));
        }
    }
    Ok(match target {
        SchemaType::Int8 => Value::Int8(cast_int(value, 8)? as i8),
        SchemaType::Int16 => Value::Int16(cast_int(value, 16)? as i16),
        SchemaType::Int32 => Value::Int32(cast_int(value, 32)? as i32),
        SchemaType::Int64 => Value::Int64(cast_int(value, 64)?),
        SchemaType::Float32 => Value::Float32(match value {
            Value::Float64(f) => *f as f32,
            Value::String(s) => parse_java_float::<f32>(s).ok_or_else(|| out_of_range(value))?,
            Value::Decimal(d) => d.to_f32().unwrap_or(f32::NAN),
            Value::Int64(x) => *x as f32,
            _ => cast_float(value)? as f32,
        }),
        SchemaType::Float64 => Value::Float64(cast_float(value)?),
        SchemaType::Boolean => Value::Boolean(match value {
            Value::Boolean(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            Value::Float32(f) => (*f as i64) != 0,
            Value::Float64(f) => (*f as i64) != 0,
            Value::Decimal(d) => decimal_long(d) != 0,
            _ => match as_number(value) {
                Some(Num::Long(x)) => x != 0,
                _ => return Err(unexpected(value)),
            },
        }),
        SchemaType::String => match value {
            Value::Array(_) | Value::Map(_) | Value::Struct(_) => return Err(unexpected(value)),
            v => Value::String(java_to_string(v)),
        },
        other => {
            return Err(DataError::new(format!(
                "{other} is not supported in the Cast transformation."
            )))
        }
    })
}

impl Transformation for Cast {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("spec", ConfigType::List)
                    .importance(Importance::High)
                    .validator(Validator::custom(|_, v| match v {
                        ConfigValue::List(l) => parse_field_types(l)
                            .map(|_| ())
                            .map_err(|e| e.message().to_owned()),
                        _ => Err("Must specify at least one field to cast.".into()),
                    }))
                    .doc("List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if let Some(raw) = config.get("spec") {
            if let Ok(ConfigValue::List(l)) = ferry_core::config::parse_type("spec", raw, ConfigType::List) {
                parse_field_types(&l)?;
            }
        }
        let c = self.config_def().parse(config)?;
        self.casts = parse_field_types(c.list("spec"))?;
        self.whole = self.casts.iter().find(|(f, _)| f.is_none()).map(|(_, t)| *t);
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.value(&record).is_null() {
            return Ok(Some(record));
        }
        match side.schema(&record).cloned() {
            None => {
                if let Some(t) = self.whole {
                    let v = cast_value(None, side.value(&record), t)?;
                    side.set(&mut record, None, v);
                    return Ok(Some(record));
                }
                let map = require_map(side.value(&record), PURPOSE)?;
                let mut out = map.clone();
                for (field, t) in &self.casts {
                    let Some(field) = field else { continue };
                    let orig = crate::util::map_get(map, field).cloned().unwrap_or(Value::Null);
                    crate::util::map_put(&mut out, field, cast_value(None, &orig, *t)?);
                }
                side.set(&mut record, None, Value::Map(out));
            }
            Some(schema) => {
                let updated = cached_schema!(self.cache, &schema, self.updated_schema(&schema)?);
                if let Some(t) = self.whole {
                    let v = cast_value(Some(&schema), side.value(&record), t)?;
                    side.set(&mut record, Some(updated), v);
                    return Ok(Some(record));
                }
                let value = require_struct(side.value(&record), PURPOSE)?;
                let mut out = Struct::new(updated.clone());
                for f in value.schema().fields() {
                    let orig = field_value(value, f, self.replace_null_with_default);
                    let v = match self.cast_for(f.name()) {
                        Some(t) => cast_value(Some(f.schema()), &orig, t)?,
                        None => orig,
                    };
                    if let Some(uf) = updated.field(f.name()) {
                        out.put_unchecked(uf.index(), v);
                    }
                }
                side.set(&mut record, Some(updated), Value::Struct(out));
            }
        }
        Ok(Some(record))
    }
}
