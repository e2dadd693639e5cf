//! How `Values.parseString` types a list or map: the common schema of its elements
//! (numbers widen, any other mix has none) and the elements converted to it.

use crate::java::MILLIS_PER_DAY;
use crate::schema::logical;
use crate::{Schema, SchemaType};

use super::parsed::{put, Parsed, Typed};

/// Connect's `SchemaMerger`: the schema every element seen so far fits, if any.
#[derive(Default)]
pub(super) struct SchemaMerger {
    common: Option<Schema>,
    incompatible: bool,
}

impl SchemaMerger {
    /// Takes an element in (a null element changes nothing).
    pub fn merge(&mut self, element: Option<&Typed>) {
        let Some(element) = element else { return };
        if self.incompatible {
            return;
        }
        self.common = match self.common.take() {
            None => Some(element.schema.clone()),
            Some(common) => merge_schemas(common, &element.schema),
        };
        self.incompatible = self.common.is_none();
    }

    /// The common schema, if the elements have one.
    pub fn common(&self) -> Option<&Schema> {
        self.common.as_ref()
    }
}

/// `Values.mergeSchemas`: two schemas of one type give the newer; of two numeric types,
/// the wider (by type alone, so an Int8 and a Date give the Date); otherwise none.
fn merge_schemas(previous: Schema, newer: &Schema) -> Option<Schema> {
    use SchemaType::*;
    let (p, n) = (previous.schema_type(), newer.schema_type());
    if p == n {
        return if previous.is_optional() == newer.is_optional() {
            Some(if previous.is_optional() {
                previous
            } else {
                newer.clone()
            })
        } else {
            (previous == *newer).then_some(previous)
        };
    }
    let rank = |t: SchemaType| match t {
        Int8 => Some(0),
        Int16 => Some(1),
        Int32 => Some(2),
        Int64 => Some(3),
        Float32 => Some(4),
        Float64 => Some(5),
        _ => None,
    };
    match (rank(p)?, rank(n)?) {
        (a, b) if b > a => Some(newer.clone()),
        _ => Some(previous),
    }
}

/// `Values.convertTo(schema, null, value)` for what a merged schema meets: numbers
/// widened, numbers as Date (days), Time or Timestamp (milliseconds), anything else of
/// the schema's kind kept; `None` where Connect throws (a null under these required
/// schemas, a `java.util.Date` as a plain number, a Time outside one day).
pub(super) fn convert(schema: &Schema, value: Parsed) -> Option<Parsed> {
    use Parsed::*;
    if matches!(value, Null) {
        return None;
    }
    if let Some(name) = schema.name() {
        let whole = match value {
            Byte(v) => Some(i64::from(v)),
            Short(v) => Some(i64::from(v)),
            Integer(v) => Some(i64::from(v)),
            Long(v) => Some(v),
            _ => None,
        };
        match (name, whole) {
            (logical::DATE, Some(days)) => return Some(Date(days * MILLIS_PER_DAY)),
            (logical::TIME, Some(millis)) if (0..=MILLIS_PER_DAY).contains(&millis) => {
                return Some(Date(millis))
            }
            (logical::TIME, Some(_)) => return None,
            (logical::TIMESTAMP, Some(millis)) => return Some(Date(millis)),
            (logical::DATE | logical::TIME | logical::TIMESTAMP, None) => {
                return matches!(value, Date(_)).then_some(value)
            }
            _ => {}
        }
    }
    let as_f64 = |v: &Parsed| match *v {
        Byte(x) => Some(f64::from(x)),
        Short(x) => Some(f64::from(x)),
        Integer(x) => Some(f64::from(x)),
        Long(x) => Some(x as f64),
        Float(x) => Some(f64::from(x)),
        Double(x) => Some(x),
        _ => None,
    };
    let as_i64 = |v: &Parsed| match *v {
        Byte(x) => Some(i64::from(x)),
        Short(x) => Some(i64::from(x)),
        Integer(x) => Some(i64::from(x)),
        Long(x) => Some(x),
        _ => None,
    };
    Some(match schema.schema_type() {
        SchemaType::Int16 => Short(as_i64(&value)? as i16),
        SchemaType::Int32 => Integer(as_i64(&value)? as i32),
        SchemaType::Int64 => Long(as_i64(&value)?),
        // Connect widens through `double`, then narrows.
        SchemaType::Float32 => Float(as_f64(&value)? as f32),
        SchemaType::Float64 => Double(as_f64(&value)?),
        SchemaType::Int8 => Byte(as_i64(&value)? as i8),
        _ => value,
    })
}

/// `alignListEntriesWithSchema`: every element converted to the array's element schema.
pub(super) fn align_list(schema: &Schema, items: Vec<Parsed>) -> Option<Vec<Parsed>> {
    items.into_iter().map(|v| convert(schema, v)).collect()
}

/// `alignMapKeysAndValuesWithSchema` / `alignMapKeysWithSchema`: keys (and values, when
/// they have a schema) converted, into a fresh map (so converted keys may collapse).
pub(super) fn align_map(
    key_schema: &Schema,
    value_schema: Option<&Schema>,
    entries: Vec<(Parsed, Parsed)>,
) -> Option<Vec<(Parsed, Parsed)>> {
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let v = match value_schema {
            Some(s) => convert(s, v)?,
            None => v,
        };
        put(&mut out, convert(key_schema, k)?, v);
    }
    Some(out)
}
