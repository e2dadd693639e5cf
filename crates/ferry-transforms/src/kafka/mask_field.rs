//! `MaskField$Key` / `MaskField$Value`: replaces field values with a type's "empty" value or a replacement.

use bigdecimal::{BigDecimal, ToPrimitive, Zero};
use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Struct, Transformation, Validator, Value,
};

use crate::util::{
    ensure_non_empty_list, field_value, map_get, map_put, non_empty_list, replace_null_with_default_key,
    require_map, require_struct, Side,
};

const PURPOSE: &str = "mask fields";

/// Masks the configured fields.
pub struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
}

/// Parses a number the way `Values.parseString` + `Number.longValue()/doubleValue()` do.
fn parse_number(s: &str) -> Option<BigDecimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<BigDecimal>().ok()
}

fn number_error(r: &str) -> DataError {
    DataError::new(format!(
        "Unable to convert {r} (class java.lang.String) to number"
    ))
}

fn to_long(d: &BigDecimal) -> i64 {
    let int = d.with_scale(0);
    match int.to_i64() {
        Some(v) => v,
        None => {
            // Java narrows big integers to their low 64 bits.
            let (bi, _) = int.as_bigint_and_exponent();
            let bytes = bi.to_signed_bytes_le();
            let mut buf = [if bi.sign() == bigdecimal::num_bigint::Sign::Minus {
                0xff
            } else {
                0
            }; 8];
            for (i, b) in bytes.iter().take(8).enumerate() {
                buf[i] = *b;
            }
            i64::from_le_bytes(buf)
        }
    }
}

fn mask_with_replacement(value: &Value, r: &str) -> Result<Value, DataError> {
    let num = || parse_number(r).ok_or_else(|| number_error(r));
    Ok(match value {
        Value::Int8(_) => Value::Int8(to_long(&num()?) as i8),
        Value::Int16(_) => Value::Int16(to_long(&num()?) as i16),
        Value::Int32(_) => Value::Int32(to_long(&num()?) as i32),
        Value::Int64(_) => Value::Int64(to_long(&num()?)),
        Value::Float32(_) => Value::Float32(num()?.to_f32().unwrap_or(f32::NAN)),
        Value::Float64(_) => Value::Float64(num()?.to_f64().unwrap_or(f64::NAN)),
        Value::String(_) => Value::String(r.to_owned()),
        Value::Decimal(_) => Value::Decimal(r.parse::<BigDecimal>().map_err(|_| number_error(r))?),
        other => {
            return Err(DataError::new(format!(
                "Cannot mask value of type {} with custom replacement.",
                java::class_string(other)
            )))
        }
    })
}

fn mask_with_null(value: &Value) -> Result<Value, DataError> {
    Ok(match value {
        Value::Boolean(_) => Value::Boolean(false),
        Value::Int8(_) => Value::Int8(0),
        Value::Int16(_) => Value::Int16(0),
        Value::Int32(_) => Value::Int32(0),
        Value::Int64(_) => Value::Int64(0),
        Value::Float32(_) => Value::Float32(0.0),
        Value::Float64(_) => Value::Float64(0.0),
        Value::Decimal(_) => Value::Decimal(BigDecimal::zero()),
        Value::String(_) => Value::String(String::new()),
        Value::Array(_) => Value::Array(Vec::new()),
        Value::Map(_) => Value::Map(Vec::new()),
        other => {
            return Err(DataError::new(format!(
                "Cannot mask value of type: {}",
                java::class_string(other)
            )))
        }
    })
}

impl MaskField {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        MaskField {
            side,
            fields: Vec::new(),
            replacement: None,
            replace_null_with_default: true,
        }
    }

    fn masked(&self, value: &Value) -> Result<Value, DataError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        match &self.replacement {
            None => mask_with_null(value),
            Some(r) => mask_with_replacement(value, r),
        }
    }
}

impl Transformation for MaskField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("fields", ConfigType::List)
                    .importance(Importance::High)
                    .validator(non_empty_list())
                    .doc("Names of fields to mask."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .default_null()
                    .importance(Importance::Low)
                    .validator(Validator::NonEmptyString)
                    .doc("Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if let Some(raw) = config.get("fields") {
            if raw.trim().is_empty() {
                ensure_non_empty_list("fields", &[])?;
            }
        }
        let c = self.config_def().parse(config)?;
        self.fields = c.list("fields").to_vec();
        self.replacement = c.string("replacement").map(str::to_owned);
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.schema(&record).is_none() {
            let map = require_map(side.value(&record), PURPOSE)?;
            let mut out = map.clone();
            for f in &self.fields {
                let masked = self.masked(map_get(map, f).unwrap_or(&Value::Null))?;
                map_put(&mut out, f, masked);
            }
            side.set(&mut record, None, Value::Map(out));
        } else {
            let value = require_struct(side.value(&record), PURPOSE)?;
            let mut out = Struct::new(value.schema().clone());
            for f in value.schema().fields() {
                let orig = field_value(value, f, self.replace_null_with_default);
                let v = if self.fields.iter().any(|m| m == f.name()) {
                    self.masked(&orig)?
                } else {
                    orig
                };
                out.put_unchecked(f.index(), v);
            }
            let schema = side.schema(&record).cloned();
            side.set(&mut record, schema, Value::Struct(out));
        }
        Ok(Some(record))
    }
}
