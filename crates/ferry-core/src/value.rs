//! Connect values: what keys, values and headers hold, with or without a schema.
//!
//! Logical types keep their physical representation (Date/Time as `Int32`,
//! Timestamp as `Int64`), except Decimal, which is a [`BigDecimal`] because its
//! bytes mean nothing without the scale.

use std::fmt;

use bigdecimal::BigDecimal;
use bytes::Bytes;

use crate::schema::{logical, Schema, SchemaType};
use crate::DataError;

/// A Connect value. `Null` stands for Java's `null`.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// A `java.lang.Boolean`.
    Boolean(bool),
    /// A `java.lang.Byte`.
    Int8(i8),
    /// A `java.lang.Short`.
    Int16(i16),
    /// A `java.lang.Integer` (also Date and Time logical values).
    Int32(i32),
    /// A `java.lang.Long` (also Timestamp logical values).
    Int64(i64),
    /// A `java.lang.Float`.
    Float32(f32),
    /// A `java.lang.Double`.
    Float64(f64),
    /// A `java.lang.String`.
    String(String),
    /// A `byte[]`.
    Bytes(Bytes),
    /// Value of a Decimal logical schema.
    Decimal(BigDecimal),
    /// A `java.util.List`.
    Array(Vec<Value>),
    /// Entries in insertion order; keys may be any value.
    Map(Vec<(Value, Value)>),
    /// A Connect `Struct`.
    Struct(Struct),
}

impl Value {
    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The struct inside, if this is a struct.
    pub fn as_struct(&self) -> Option<&Struct> {
        match self {
            Value::Struct(s) => Some(s),
            _ => None,
        }
    }
    /// Integer value widened to i64 (int8..int64).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v as i64),
            Value::Int16(v) => Some(v as i64),
            Value::Int32(v) => Some(v as i64),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }
    /// Looks a key up in a map value whose keys are strings (schemaless structs).
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    /// The schema type this value would have without a schema (Java's `ConnectSchema.schemaType(Class)`).
    pub fn inferred_type(&self) -> Option<SchemaType> {
        Some(match self {
            Value::Null => return None,
            Value::Boolean(_) => SchemaType::Boolean,
            Value::Int8(_) => SchemaType::Int8,
            Value::Int16(_) => SchemaType::Int16,
            Value::Int32(_) => SchemaType::Int32,
            Value::Int64(_) => SchemaType::Int64,
            Value::Float32(_) => SchemaType::Float32,
            Value::Float64(_) => SchemaType::Float64,
            Value::String(_) => SchemaType::String,
            Value::Bytes(_) | Value::Decimal(_) => SchemaType::Bytes,
            Value::Array(_) => SchemaType::Array,
            Value::Map(_) => SchemaType::Map,
            Value::Struct(_) => SchemaType::Struct,
        })
    }
    /// A short name of the variant for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "Boolean",
            Value::Int8(_) => "Byte",
            Value::Int16(_) => "Short",
            Value::Int32(_) => "Integer",
            Value::Int64(_) => "Long",
            Value::Float32(_) => "Float",
            Value::Float64(_) => "Double",
            Value::String(_) => "String",
            Value::Bytes(_) => "byte[]",
            Value::Decimal(_) => "BigDecimal",
            Value::Array(_) => "List",
            Value::Map(_) => "Map",
            Value::Struct(_) => "Struct",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int32(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int64(v)
    }
}
impl From<Struct> for Value {
    fn from(v: Struct) -> Self {
        Value::Struct(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A struct value: a schema and one value per field, in field order.
#[derive(Clone, PartialEq)]
pub struct Struct {
    schema: Schema,
    values: Vec<Value>,
}

impl fmt::Debug for Struct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (field, v) in self.schema.fields().iter().zip(&self.values) {
            m.entry(&field.name(), v);
        }
        m.finish()
    }
}

impl Struct {
    /// An empty struct (all fields null) of a struct schema.
    pub fn new(schema: Schema) -> Self {
        debug_assert_eq!(schema.schema_type(), SchemaType::Struct);
        let values = vec![Value::Null; schema.fields().len()];
        Struct { schema, values }
    }
    /// A struct from values in field order. The count must match the fields.
    pub fn from_values(schema: Schema, values: Vec<Value>) -> Result<Self, DataError> {
        if values.len() != schema.fields().len() {
            return Err(DataError::new(format!(
                "struct has {} fields but {} values were given",
                schema.fields().len(),
                values.len()
            )));
        }
        Ok(Struct { schema, values })
    }
    /// The struct's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
    /// Values in field order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }
    /// Takes the values out.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
    /// Field value by name; `None` when the schema has no such field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.schema.field(field).map(|f| &self.values[f.index()])
    }
    /// Field value by name, or the field's default when null (Java's `Struct.get`).
    pub fn get_or_default(&self, field: &str) -> Option<&Value> {
        let f = self.schema.field(field)?;
        let v = &self.values[f.index()];
        if v.is_null() {
            if let Some(d) = f.schema().default_value() {
                return Some(d);
            }
        }
        Some(v)
    }
    /// Field value by position.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }
    /// Sets a field, checking the value against its schema.
    pub fn put(&mut self, field: &str, value: impl Into<Value>) -> Result<&mut Self, DataError> {
        let f = self
            .schema
            .field(field)
            .ok_or_else(|| DataError::new(format!("{field} is not a valid field name")))?;
        let value = value.into();
        validate(f.schema(), &value, Some(field))?;
        let i = f.index();
        self.values[i] = value;
        Ok(self)
    }
    /// Sets a field without validation (for hot paths that build values from their schema).
    pub fn put_unchecked(&mut self, index: usize, value: Value) {
        self.values[index] = value;
    }
    /// Checks every required field is set and matches its schema (Java's `Struct.validate`).
    pub fn validate(&self) -> Result<(), DataError> {
        for (f, v) in self.schema.fields().iter().zip(&self.values) {
            let v = if v.is_null() {
                f.schema().default_value().unwrap_or(v)
            } else {
                v
            };
            validate(f.schema(), v, Some(f.name()))?;
        }
        Ok(())
    }
}

/// `ConnectSchema.validateValue`: does `value` fit `schema`?
pub(crate) fn validate(schema: &Schema, value: &Value, field: Option<&str>) -> Result<(), DataError> {
    let where_ = || field.map(|f| format!(" for field: \"{f}\"")).unwrap_or_default();
    if value.is_null() {
        if schema.is_optional() || schema.default_value().is_some() {
            return Ok(());
        }
        return Err(DataError::new(format!(
            "Invalid value: null used for required field: \"{}\", schema type: {}",
            field.unwrap_or("null"),
            schema.schema_type()
        )));
    }
    let ok = match (schema.schema_type(), value) {
        (SchemaType::Bytes, Value::Decimal(_)) => schema.is_logical(logical::DECIMAL),
        (SchemaType::Bytes, Value::Bytes(_)) => !schema.is_logical(logical::DECIMAL),
        (SchemaType::Array, Value::Array(items)) => {
            let item_schema = schema.value_schema().expect("array schema has items");
            for item in items {
                validate(item_schema, item, field)?;
            }
            true
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let ks = schema.key_schema().expect("map schema has keys");
            let vs = schema.value_schema().expect("map schema has values");
            for (k, v) in entries {
                validate(ks, k, field)?;
                validate(vs, v, field)?;
            }
            true
        }
        (SchemaType::Struct, Value::Struct(s)) => {
            if s.schema() != schema {
                return Err(DataError::new(format!("Struct schemas do not match{}", where_())));
            }
            s.validate()?;
            true
        }
        (ty, v) => v.inferred_type() == Some(ty),
    };
    if ok {
        Ok(())
    } else {
        Err(DataError::new(format!(
            "Invalid Java object for schema \"{}\" with type {}: class {}{}",
            schema.name().unwrap_or("null"),
            schema.schema_type(),
            value.kind_name(),
            where_()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Schema {
        Schema::struct_builder()
            .field("id", Schema::int32())
            .field("nick", Schema::optional_string())
            .build()
    }

    #[test]
    fn put_checks_types() {
        let mut s = Struct::new(person());
        s.put("id", 7).unwrap();
        assert!(s.put("id", "x").is_err());
        assert!(s.put("missing", 1).is_err());
        assert_eq!(s.get("id"), Some(&Value::Int32(7)));
    }

    #[test]
    fn validate_requires_required_fields() {
        let s = Struct::new(person());
        let err = s.validate().unwrap_err();
        assert!(err.to_string().contains("\"id\""), "{err}");
    }

    #[test]
    fn decimal_only_fits_decimal_schema() {
        let d = Schema::decimal(2).build();
        let v = Value::Decimal("1.25".parse().unwrap());
        assert!(d.validate_value(&v).is_ok());
        assert!(Schema::bytes().validate_value(&v).is_err());
    }
}
