//! Infers a Connect schema from a JSON document and converts the document to
//! Connect data, as the outbox router's `table.expand.json.payload` does.
//!
//! Inference rules: strings, booleans → optional string/boolean; integers → optional
//! int32 when they fit, else int64, else float64; other numbers → optional float64;
//! objects → optional structs named by their path from the payload column
//! (`payload`, `payload.address`, ...); arrays → optional arrays of the first
//! non-null element's schema (objects: the merge of every element's schema);
//! nulls and empty arrays are left out unless configured otherwise.

use ferry_core::bigdecimal::BigDecimal;
use ferry_core::java;
use ferry_core::{DataError, Schema, SchemaType, Struct, Value};
use serde_json::{Map, Number, Value as Json};

use crate::util::copy_schema_basics;

/// How JSON nulls are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullBehavior {
    /// Fields holding null are left out of the schema.
    Ignore,
    /// Nulls become optional bytes.
    OptionalBytes,
}

/// How empty JSON arrays are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptyArrayBehavior {
    /// Fields holding `[]` are left out of the schema.
    Ignore,
    /// `[]` becomes an optional array of optional strings.
    OptionalString,
}

/// How field names are adjusted (`field.name.adjustment.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldNameAdjustment {
    /// Names are kept.
    None,
    /// Characters outside `[A-Za-z0-9_]` (first: `[A-Za-z_]`) become `_`.
    Avro,
}

impl FieldNameAdjustment {
    fn adjust(self, name: &str) -> String {
        match self {
            FieldNameAdjustment::None => name.to_owned(),
            FieldNameAdjustment::Avro => avro_field_name(name),
        }
    }
}

fn avro_field_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, c) in name.chars().enumerate() {
        let valid = c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit());
        if valid {
            out.push(c);
        } else {
            // One replacement per UTF-16 unit, as Java iterates chars.
            for _ in 0..c.len_utf16() {
                out.push('_');
            }
            if i == 0 && c.is_ascii_digit() {
                out.push(c);
            }
        }
    }
    out
}

/// Why a JSON payload could not be expanded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExpandError {
    /// The text does not start with `{` or `[`.
    #[error("Unable to parse payload starting with '{0}'")]
    NotJson(char),
    /// The text is not valid JSON.
    #[error("{0}")]
    Parse(String),
    /// No schema could be inferred.
    #[error("{0}")]
    Schema(String),
}

/// JSON → Connect schema and data (Debezium's `JsonSchemaData`).
#[derive(Debug, Clone, Copy)]
pub struct JsonSchemaData {
    nulls: NullBehavior,
    empty_arrays: EmptyArrayBehavior,
    names: FieldNameAdjustment,
}

impl JsonSchemaData {
    /// A converter with the given behaviours.
    pub fn new(nulls: NullBehavior, empty_arrays: EmptyArrayBehavior, names: FieldNameAdjustment) -> Self {
        JsonSchemaData {
            nulls,
            empty_arrays,
            names,
        }
    }

    /// Parses a payload string; only text starting with `{` or `[` is attempted.
    pub fn parse(text: &str) -> Result<Json, ExpandError> {
        match text.chars().next() {
            Some('{') | Some('[') => {
                serde_json::from_str(text).map_err(|e| ExpandError::Parse(e.to_string()))
            }
            Some(c) => Err(ExpandError::NotJson(c)),
            None => Err(ExpandError::Parse("empty payload".into())),
        }
    }

    /// The schema of `node`; `None` when the node has no type (null, empty array).
    pub fn to_schema(&self, key: Option<&str>, node: &Json) -> Result<Option<Schema>, ExpandError> {
        Ok(Some(match node {
            Json::String(_) => Schema::optional_string(),
            Json::Bool(_) => Schema::optional_boolean(),
            Json::Number(n) => number_schema(n),
            Json::Array(items) => {
                if items.is_empty() {
                    return Ok(match self.empty_arrays {
                        EmptyArrayBehavior::OptionalString => {
                            Some(Schema::array(Schema::optional_string()).optional().build())
                        }
                        EmptyArrayBehavior::Ignore => None,
                    });
                }
                let items = self.array_item_schema(key, items)?;
                Schema::array(items).optional().build()
            }
            Json::Object(map) => self.object_schema(key, map)?,
            Json::Null => {
                return Ok(match self.nulls {
                    NullBehavior::OptionalBytes => Some(Schema::optional_bytes()),
                    NullBehavior::Ignore => None,
                })
            }
        }))
    }

    fn object_schema(&self, key: Option<&str>, map: &Map<String, Json>) -> Result<Schema, ExpandError> {
        let mut b = Schema::struct_builder()
            .set_name(key.map(str::to_owned))
            .optional();
        let mut names: Vec<String> = Vec::with_capacity(map.len());
        for (raw, child) in map {
            let name = self.names.adjust(raw);
            let child_key = match key {
                Some(k) if !java::collections::is_blank(k) => format!("{k}.{name}"),
                _ => name.clone(),
            };
            if let Some(s) = self.to_schema(Some(&child_key), child)? {
                if !names.contains(&name) {
                    b = b.field(name.clone(), s);
                    names.push(name);
                }
            }
        }
        Ok(b.build())
    }

    fn array_item_schema(&self, key: Option<&str>, items: &[Json]) -> Result<Schema, ExpandError> {
        let sample = self.first_element(items)?;
        if sample.is_object() {
            let mut distinct: Vec<Schema> = Vec::new();
            for item in items.iter().filter(|i| i.is_object()) {
                if let Some(s) = self.to_schema(key, item)? {
                    if !distinct.contains(&s) {
                        distinct.push(s);
                    }
                }
            }
            let mut merged: Option<Schema> = None;
            for s in distinct {
                merged = Some(match merged {
                    None => s,
                    Some(left) => merge(&left, &s),
                });
            }
            merged.ok_or_else(|| ExpandError::Schema("Array has no object members".into()))
        } else {
            self.to_schema(None, sample)?.ok_or_else(|| {
                ExpandError::Schema(format!(
                    "Array '{}' has unrecognized member schema.",
                    as_text(sample)
                ))
            })
        }
    }

    fn first_element<'a>(&self, items: &'a [Json]) -> Result<&'a Json, ExpandError> {
        let mut reference: &Json = &Json::Null;
        let mut ref_number: Option<SchemaType> = None;
        for item in items.iter().filter(|i| !i.is_null()) {
            if reference.is_null() {
                reference = item;
            }
            if node_type(item) != node_type(reference) {
                return Err(ExpandError::Schema(format!(
                    "Field is not a homogenous array ({} x {}).",
                    as_text(reference),
                    node_type(item)
                )));
            }
            if let (Json::Number(r), Json::Number(n)) = (reference, item) {
                let r_ty = *ref_number.get_or_insert_with(|| number_schema(r).schema_type());
                let n_ty = number_schema(n).schema_type();
                if r_ty != n_ty {
                    return Err(ExpandError::Schema(format!(
                        "Field is not a homogenous array ({} x {}), different number types (Schema{{{}}} x Schema{{{}}})",
                        as_text(reference),
                        as_text(item),
                        r_ty.java_name(),
                        n_ty.java_name()
                    )));
                }
            }
        }
        Ok(reference)
    }

    /// Converts the root document with its inferred schema (must be a struct schema).
    pub fn to_data(&self, node: &Json, schema: &Schema) -> Result<Value, DataError> {
        let Json::Object(map) = node else {
            return Err(DataError::new(
                "Not a struct schema: the payload root is not an object",
            ));
        };
        self.convert_struct(map, schema).map(Value::Struct)
    }

    fn convert_struct(&self, map: &Map<String, Json>, schema: &Schema) -> Result<Struct, DataError> {
        if schema.schema_type() != SchemaType::Struct {
            return Err(DataError::new(format!(
                "Not a struct schema: {}",
                schema.schema_type().java_name()
            )));
        }
        let mut s = Struct::new(schema.clone());
        for field in schema.fields() {
            // Looked up by the (possibly adjusted) field name, as upstream does.
            if let Some(child) = map.get(field.name()) {
                let v = self.field_value(child, field.schema())?;
                s.put(field.name(), v)?;
            }
        }
        Ok(s)
    }

    fn field_value(&self, node: &Json, schema: &Schema) -> Result<Value, DataError> {
        Ok(match node {
            Json::String(s) => Value::String(s.clone()),
            Json::Bool(b) => Value::Boolean(*b),
            Json::Number(n) => number_value(n),
            Json::Array(items) => {
                let item_schema = schema
                    .value_schema()
                    .ok_or_else(|| DataError::new("Cannot look up value schema on non-array type"))?;
                items
                    .iter()
                    .map(|i| self.field_value(i, item_schema))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array)?
            }
            Json::Object(map) => Value::Struct(self.convert_struct(map, schema)?),
            Json::Null => Value::Null,
        })
    }
}

/// Merges two element schemas: fields of `left`, then new fields of `right`;
/// a bytes-typed (null) field is replaced by a typed one. The result is required.
fn merge(left: &Schema, right: &Schema) -> Schema {
    let mut fields: Vec<(String, Schema)> = left
        .fields()
        .iter()
        .map(|f| (f.name().to_owned(), f.schema().clone()))
        .collect();
    for f in right.fields() {
        match fields.iter_mut().find(|(n, _)| n == f.name()) {
            None => fields.push((f.name().to_owned(), f.schema().clone())),
            Some((_, old)) => {
                if old != f.schema()
                    && old.schema_type() == SchemaType::Bytes
                    && f.schema().schema_type() != SchemaType::Bytes
                {
                    *old = f.schema().clone();
                }
            }
        }
    }
    let mut b = copy_schema_basics(left, SchemaType::Struct);
    for (name, schema) in fields {
        b = b.field(name, schema);
    }
    b.build()
}

/// Number kinds as Jackson parses them.
enum NumberKind {
    Int(i32),
    Long(i64),
    BigInteger,
    Double(f64),
}

fn classify(n: &Number) -> NumberKind {
    let text = n.to_string();
    let integral = !text.contains(['.', 'e', 'E']);
    if integral {
        match text.parse::<i64>() {
            Ok(v) => match i32::try_from(v) {
                Ok(i) => NumberKind::Int(i),
                Err(_) => NumberKind::Long(v),
            },
            Err(_) => NumberKind::BigInteger,
        }
    } else {
        NumberKind::Double(text.parse::<f64>().unwrap_or(f64::NAN))
    }
}

fn number_schema(n: &Number) -> Schema {
    match classify(n) {
        NumberKind::Int(_) => Schema::optional_int32(),
        NumberKind::Long(_) => Schema::optional_int64(),
        NumberKind::BigInteger | NumberKind::Double(_) => Schema::optional_float64(),
    }
}

fn number_value(n: &Number) -> Value {
    match classify(n) {
        NumberKind::Int(i) => Value::Int32(i),
        NumberKind::Long(l) => Value::Int64(l),
        NumberKind::Double(d) => Value::Float64(d),
        // Upstream hands a BigDecimal to a float64 field, which then fails validation.
        NumberKind::BigInteger => n
            .to_string()
            .parse::<BigDecimal>()
            .map(Value::Decimal)
            .unwrap_or(Value::Null),
    }
}

fn node_type(node: &Json) -> &'static str {
    match node {
        Json::Null => "NULL",
        Json::Bool(_) => "BOOLEAN",
        Json::Number(_) => "NUMBER",
        Json::String(_) => "STRING",
        Json::Array(_) => "ARRAY",
        Json::Object(_) => "OBJECT",
    }
}

/// Jackson's `asText()`: scalars as text, containers as the empty string.
fn as_text(node: &Json) -> String {
    match node {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.clone(),
        Json::Array(_) | Json::Object(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> JsonSchemaData {
        JsonSchemaData::new(
            NullBehavior::Ignore,
            EmptyArrayBehavior::Ignore,
            FieldNameAdjustment::None,
        )
    }

    fn schema_of(d: &JsonSchemaData, key: &str, text: &str) -> Result<Option<Schema>, ExpandError> {
        d.to_schema(Some(key), &JsonSchemaData::parse(text).unwrap())
    }

    #[test]
    fn infers_nested_struct_names_and_types() {
        let s = schema_of(
            &data(),
            "pub",
            r#"{"address":{"building":"1007","floor":{"level":8},"coord":[-73.85,40.84]},
                "grades":[{"date":{"$date":1393804800000},"grade":"A","score":2}],
                "big":3000000000,"gone":null,"none":[]}"#,
        )
        .unwrap()
        .unwrap();
        let expected = Schema::struct_builder()
            .name("pub")
            .optional()
            .field(
                "address",
                Schema::struct_builder()
                    .name("pub.address")
                    .optional()
                    .field("building", Schema::optional_string())
                    .field(
                        "floor",
                        Schema::struct_builder()
                            .name("pub.address.floor")
                            .optional()
                            .field("level", Schema::optional_int32())
                            .build(),
                    )
                    .field(
                        "coord",
                        Schema::array(Schema::optional_float64()).optional().build(),
                    )
                    .build(),
            )
            .field(
                "grades",
                Schema::array(
                    Schema::struct_builder()
                        .name("pub.grades")
                        .optional()
                        .field(
                            "date",
                            Schema::struct_builder()
                                .name("pub.grades.date")
                                .optional()
                                .field("$date", Schema::optional_int64())
                                .build(),
                        )
                        .field("grade", Schema::optional_string())
                        .field("score", Schema::optional_int32())
                        .build(),
                )
                .optional()
                .build(),
            )
            .field("big", Schema::optional_int64())
            .build();
        assert_eq!(s, expected);
    }

    #[test]
    fn mixed_number_arrays_are_rejected() {
        let e = schema_of(&data(), "payload", r#"{"test":[1,2.0,3.0]}"#).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Field is not a homogenous array (1 x 2.0), different number types (Schema{INT32} x Schema{FLOAT64})"
        );
    }

    #[test]
    fn element_schemas_merge_and_null_becomes_bytes_when_asked() {
        let d = JsonSchemaData::new(
            NullBehavior::OptionalBytes,
            EmptyArrayBehavior::OptionalString,
            FieldNameAdjustment::Avro,
        );
        let s = schema_of(
            &d,
            "arr",
            r#"[{"code":"100","description":null},{"code":"200","description":"x","test$":"t"},{"code":"300"}]"#,
        )
        .unwrap()
        .unwrap();
        let item = s.value_schema().unwrap();
        assert!(!item.is_optional(), "merged element schemas are required");
        let names: Vec<_> = item.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["code", "description", "test_"]);
        assert_eq!(
            item.field("description").unwrap().schema().schema_type(),
            SchemaType::String
        );
        let empty = schema_of(&d, "p", r#"{"tags":[]}"#).unwrap().unwrap();
        assert_eq!(
            empty.field("tags").unwrap().schema(),
            &Schema::array(Schema::optional_string()).optional().build()
        );
    }

    #[test]
    fn converts_values_following_the_schema() {
        let d = data();
        let json = JsonSchemaData::parse(r#"{"a":1,"b":[{"x":true},null],"c":{"d":"e"},"n":null}"#).unwrap();
        let schema = d.to_schema(Some("payload"), &json).unwrap().unwrap();
        let v = d.to_data(&json, &schema).unwrap();
        let s = v.as_struct().unwrap();
        assert_eq!(s.get("a"), Some(&Value::Int32(1)));
        let Some(Value::Array(items)) = s.get("b") else {
            panic!("array expected")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0].as_struct().unwrap().get("x"),
            Some(&Value::Boolean(true))
        );
        assert_eq!(items[1], Value::Null);
        assert!(s.schema().field("n").is_none());
        assert_eq!(
            s.get("c").unwrap().as_struct().unwrap().schema().name(),
            Some("payload.c")
        );
    }

    #[test]
    fn only_objects_and_arrays_are_parsed() {
        assert_eq!(
            JsonSchemaData::parse("\"x\"").unwrap_err(),
            ExpandError::NotJson('"')
        );
        assert!(matches!(
            JsonSchemaData::parse("{oops"),
            Err(ExpandError::Parse(_))
        ));
    }
}
