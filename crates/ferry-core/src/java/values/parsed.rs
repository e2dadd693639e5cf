//! What `Values.parseString` builds before it becomes a Ferry [`Value`]: Java's objects
//! (`Byte`, `Short`, ..., `java.util.Date`, `List`, `LinkedHashMap`) with Java's
//! `equals`, so that map keys collapse as they do in Connect.

use bigdecimal::BigDecimal;

use crate::java::MILLIS_PER_DAY;
use crate::schema::logical;
use crate::{Schema, Value};

/// A parsed Java object.
#[derive(Clone, Debug)]
pub(super) enum Parsed {
    Null,
    Boolean(bool),
    Byte(i8),
    Short(i16),
    Integer(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Decimal(BigDecimal),
    String(String),
    /// A `java.util.Date`: milliseconds since the epoch.
    Date(i64),
    List(Vec<Parsed>),
    /// A `LinkedHashMap`: insertion order, keys unique by [`Parsed::java_equals`].
    Map(Vec<(Parsed, Parsed)>),
}

/// A value with the schema `parseString` gave it (Java's non-null `SchemaAndValue`).
#[derive(Clone, Debug)]
pub(super) struct Typed {
    pub schema: Schema,
    pub value: Parsed,
}

impl Parsed {
    /// Java's `equals` (`Float.equals` compares bits, `BigDecimal.equals` the scale too,
    /// `Map.equals` ignores order).
    pub fn java_equals(&self, other: &Parsed) -> bool {
        use Parsed::*;
        match (self, other) {
            (Null, Null) => true,
            (Boolean(a), Boolean(b)) => a == b,
            (Byte(a), Byte(b)) => a == b,
            (Short(a), Short(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (Decimal(a), Decimal(b)) => a.as_bigint_and_exponent() == b.as_bigint_and_exponent(),
            (String(a), String(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (List(a), List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.java_equals(y)),
            (Map(a), Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, v)| b.iter().any(|(k2, v2)| k.java_equals(k2) && v.java_equals(v2)))
            }
            _ => false,
        }
    }

    /// The Ferry value under `schema` (the schema of its position, if any). A logical
    /// value is its physical value (a Date the days, a Time or Timestamp the
    /// milliseconds); a `java.util.Date` the schema cannot hold that way (under no
    /// schema, a non-temporal one, or a Date schema off a day boundary) keeps its
    /// milliseconds as an `Int64`.
    pub fn into_value(self, schema: Option<&Schema>) -> Value {
        match self {
            Parsed::Null => Value::Null,
            Parsed::Boolean(b) => Value::Boolean(b),
            Parsed::Byte(v) => Value::Int8(v),
            Parsed::Short(v) => Value::Int16(v),
            Parsed::Integer(v) => Value::Int32(v),
            Parsed::Long(v) => Value::Int64(v),
            Parsed::Float(v) => Value::Float32(v),
            Parsed::Double(v) => Value::Float64(v),
            Parsed::Decimal(d) => Value::Decimal(d),
            Parsed::String(s) => Value::String(s),
            Parsed::Date(millis) => date_value(schema, millis),
            Parsed::List(items) => {
                let item_schema = schema.and_then(Schema::value_schema);
                Value::Array(items.into_iter().map(|v| v.into_value(item_schema)).collect())
            }
            Parsed::Map(entries) => {
                let key_schema = schema.and_then(Schema::key_schema);
                let value_schema = schema.and_then(Schema::value_schema);
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.into_value(key_schema), v.into_value(value_schema)))
                        .collect(),
                )
            }
        }
    }
}

fn date_value(schema: Option<&Schema>, millis: i64) -> Value {
    let int = |v: i64| i32::try_from(v).ok().map(Value::Int32);
    let held = match schema.and_then(Schema::name) {
        Some(logical::DATE) if millis % MILLIS_PER_DAY == 0 => int(millis / MILLIS_PER_DAY),
        Some(logical::TIME) => int(millis),
        _ => None,
    };
    held.unwrap_or(Value::Int64(millis))
}

/// `LinkedHashMap.put`: a key equal to one present replaces its value in place.
pub(super) fn put(entries: &mut Vec<(Parsed, Parsed)>, key: Parsed, value: Parsed) {
    match entries.iter_mut().find(|(k, _)| k.java_equals(&key)) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}
