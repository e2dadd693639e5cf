//! Connect schemas: the type description that travels with keys, values and headers.
//!
//! Mirrors `org.apache.kafka.connect.data.Schema`: a physical type, optional flag,
//! default, name, version, doc and parameters, plus fields (struct) or key/value
//! schemas (map, array). Schemas are immutable and cheap to clone (`Arc` inside).

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::value::Value;

/// Physical schema types, named as Connect names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaType {
    /// `INT8`: a byte.
    Int8,
    /// `INT16`: a short.
    Int16,
    /// `INT32`: an int.
    Int32,
    /// `INT64`: a long.
    Int64,
    /// `FLOAT32`: a float.
    Float32,
    /// `FLOAT64`: a double.
    Float64,
    /// `BOOLEAN`.
    Boolean,
    /// `STRING`.
    String,
    /// `BYTES`: a byte array.
    Bytes,
    /// `ARRAY` of one value schema.
    Array,
    /// `MAP` from a key schema to a value schema.
    Map,
    /// `STRUCT`: named, ordered fields.
    Struct,
}

impl SchemaType {
    /// The lower-case name JsonConverter writes (`int32`, `float`, `struct`, ...).
    pub fn json_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    /// Parses the JsonConverter name of a type.
    pub fn from_json_name(name: &str) -> Option<Self> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// The upper-case enum name Java prints (`INT32`, `FLOAT64`, ...), used in error messages.
    pub fn java_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "INT8",
            SchemaType::Int16 => "INT16",
            SchemaType::Int32 => "INT32",
            SchemaType::Int64 => "INT64",
            SchemaType::Float32 => "FLOAT32",
            SchemaType::Float64 => "FLOAT64",
            SchemaType::Boolean => "BOOLEAN",
            SchemaType::String => "STRING",
            SchemaType::Bytes => "BYTES",
            SchemaType::Array => "ARRAY",
            SchemaType::Map => "MAP",
            SchemaType::Struct => "STRUCT",
        }
    }

    /// True for int8..float64 and boolean, string, bytes.
    pub fn is_primitive(self) -> bool {
        !matches!(self, SchemaType::Array | SchemaType::Map | SchemaType::Struct)
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// Names of Connect's built-in logical types.
pub mod logical {
    /// `bytes` holding an unscaled two's complement big-endian integer; parameter `scale`.
    pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
    /// Parameter of [`DECIMAL`] holding the scale.
    pub const DECIMAL_SCALE: &str = "scale";
    /// `int32` days since the epoch.
    pub const DATE: &str = "org.apache.kafka.connect.data.Date";
    /// `int32` milliseconds since midnight.
    pub const TIME: &str = "org.apache.kafka.connect.data.Time";
    /// `int64` milliseconds since the epoch.
    pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
}

/// A struct field: name, position and schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    name: String,
    index: usize,
    schema: Schema,
}

impl Field {
    /// Field name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Position of the field in its struct.
    pub fn index(&self) -> usize {
        self.index
    }
    /// Schema of the field's value.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }
}

#[derive(Debug, PartialEq)]
struct SchemaInner {
    ty: SchemaType,
    optional: bool,
    default: Option<Value>,
    name: Option<String>,
    version: Option<i32>,
    doc: Option<String>,
    parameters: Option<IndexMap<String, String>>,
    fields: Vec<Field>,
    key: Option<Schema>,
    value: Option<Schema>,
}

/// An immutable Connect schema. Clone is a reference-count bump.
#[derive(Clone)]
pub struct Schema(Arc<SchemaInner>);

impl PartialEq for Schema {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Schema");
        d.field("type", &self.0.ty);
        if self.0.optional {
            d.field("optional", &true);
        }
        if let Some(n) = &self.0.name {
            d.field("name", n);
        }
        if !self.0.fields.is_empty() {
            d.field("fields", &self.0.fields);
        }
        if let Some(k) = &self.0.key {
            d.field("key", k);
        }
        if let Some(v) = &self.0.value {
            d.field("value", v);
        }
        d.finish()
    }
}

impl Schema {
    /// Physical type.
    pub fn schema_type(&self) -> SchemaType {
        self.0.ty
    }
    /// Whether null is allowed.
    pub fn is_optional(&self) -> bool {
        self.0.optional
    }
    /// Default value, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.0.default.as_ref()
    }
    /// Schema name (logical type or record name).
    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
    /// Schema version.
    pub fn version(&self) -> Option<i32> {
        self.0.version
    }
    /// Documentation.
    pub fn doc(&self) -> Option<&str> {
        self.0.doc.as_deref()
    }
    /// Parameters in insertion order.
    pub fn parameters(&self) -> Option<&IndexMap<String, String>> {
        self.0.parameters.as_ref()
    }
    /// One parameter.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.0.parameters.as_ref()?.get(key).map(String::as_str)
    }
    /// Struct fields in order (empty for other types).
    pub fn fields(&self) -> &[Field] {
        &self.0.fields
    }
    /// Looks a struct field up by name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.0.fields.iter().find(|f| f.name == name)
    }
    /// Key schema of a map.
    pub fn key_schema(&self) -> Option<&Schema> {
        self.0.key.as_ref()
    }
    /// Value schema of a map, element schema of an array.
    pub fn value_schema(&self) -> Option<&Schema> {
        self.0.value.as_ref()
    }
    /// True when the name is the given logical type name.
    pub fn is_logical(&self, logical_name: &str) -> bool {
        self.name() == Some(logical_name)
    }

    /// A builder for a schema of `ty`.
    pub fn builder(ty: SchemaType) -> SchemaBuilder {
        SchemaBuilder::new(ty)
    }
    /// A struct builder.
    pub fn struct_builder() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Struct)
    }
    /// An array schema of `items`.
    pub fn array(items: Schema) -> SchemaBuilder {
        let mut b = SchemaBuilder::new(SchemaType::Array);
        b.inner.value = Some(items);
        b
    }
    /// A map schema.
    pub fn map(key: Schema, value: Schema) -> SchemaBuilder {
        let mut b = SchemaBuilder::new(SchemaType::Map);
        b.inner.key = Some(key);
        b.inner.value = Some(value);
        b
    }
    /// A map schema with keys of `key` and no value schema (Connect's
    /// `SchemaBuilder.mapWithNullValues`, what `Values.parseString` gives a map whose
    /// values share no schema).
    pub fn map_with_null_values(key: Schema) -> SchemaBuilder {
        let mut b = SchemaBuilder::new(SchemaType::Map);
        b.inner.key = Some(key);
        b
    }
    /// A builder pre-filled with this schema's properties (fields included).
    pub fn to_builder(&self) -> SchemaBuilder {
        let i = &self.0;
        SchemaBuilder {
            inner: SchemaInner {
                ty: i.ty,
                optional: i.optional,
                default: i.default.clone(),
                name: i.name.clone(),
                version: i.version,
                doc: i.doc.clone(),
                parameters: i.parameters.clone(),
                fields: i.fields.clone(),
                key: i.key.clone(),
                value: i.value.clone(),
            },
        }
    }

    /// Decimal logical type with `scale`.
    pub fn decimal(scale: i32) -> SchemaBuilder {
        Schema::builder(SchemaType::Bytes)
            .name(logical::DECIMAL)
            .version(1)
            .parameter(logical::DECIMAL_SCALE, scale.to_string())
    }
    /// Date logical type.
    pub fn date() -> SchemaBuilder {
        Schema::builder(SchemaType::Int32).name(logical::DATE).version(1)
    }
    /// Time logical type.
    pub fn time() -> SchemaBuilder {
        Schema::builder(SchemaType::Int32).name(logical::TIME).version(1)
    }
    /// Timestamp logical type.
    pub fn timestamp() -> SchemaBuilder {
        Schema::builder(SchemaType::Int64)
            .name(logical::TIMESTAMP)
            .version(1)
    }

    /// Checks that `value` conforms to this schema (as `ConnectSchema.validateValue`).
    pub fn validate_value(&self, value: &Value) -> Result<(), crate::DataError> {
        crate::value::validate(self, value, None)
    }
}

macro_rules! primitive_ctor {
    ($($fn:ident $opt:ident => $ty:ident),* $(,)?) => {
        impl Schema {
            $(
                #[doc = concat!("The required `", stringify!($ty), "` schema.")]
                pub fn $fn() -> Schema { Schema::builder(SchemaType::$ty).build() }
                #[doc = concat!("The optional `", stringify!($ty), "` schema.")]
                pub fn $opt() -> Schema { Schema::builder(SchemaType::$ty).optional().build() }
            )*
        }
    };
}

primitive_ctor! {
    int8 optional_int8 => Int8,
    int16 optional_int16 => Int16,
    int32 optional_int32 => Int32,
    int64 optional_int64 => Int64,
    float32 optional_float32 => Float32,
    float64 optional_float64 => Float64,
    boolean optional_boolean => Boolean,
    string optional_string => String,
    bytes optional_bytes => Bytes,
}

/// Builds a [`Schema`].
#[derive(Debug)]
pub struct SchemaBuilder {
    inner: SchemaInner,
}

impl SchemaBuilder {
    /// A builder for `ty` with nothing else set.
    pub fn new(ty: SchemaType) -> Self {
        SchemaBuilder {
            inner: SchemaInner {
                ty,
                optional: false,
                default: None,
                name: None,
                version: None,
                doc: None,
                parameters: None,
                fields: Vec::new(),
                key: None,
                value: None,
            },
        }
    }
    /// Allows null.
    pub fn optional(mut self) -> Self {
        self.inner.optional = true;
        self
    }
    /// Sets whether null is allowed.
    pub fn set_optional(mut self, optional: bool) -> Self {
        self.inner.optional = optional;
        self
    }
    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.inner.name = Some(name.into());
        self
    }
    /// Sets or clears the name.
    pub fn set_name(mut self, name: Option<String>) -> Self {
        self.inner.name = name;
        self
    }
    /// Sets the version.
    pub fn version(mut self, version: i32) -> Self {
        self.inner.version = Some(version);
        self
    }
    /// Sets or clears the version.
    pub fn set_version(mut self, version: Option<i32>) -> Self {
        self.inner.version = version;
        self
    }
    /// Sets the doc.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.inner.doc = Some(doc.into());
        self
    }
    /// Sets the default value (not checked against the schema here).
    pub fn default_value(mut self, value: Value) -> Self {
        self.inner.default = Some(value);
        self
    }
    /// Adds one parameter, keeping insertion order.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner
            .parameters
            .get_or_insert_with(IndexMap::new)
            .insert(key.into(), value.into());
        self
    }
    /// Replaces all parameters.
    pub fn parameters(mut self, params: Option<IndexMap<String, String>>) -> Self {
        self.inner.parameters = params;
        self
    }
    /// Appends a struct field. Panics if the builder is not a struct or the name repeats:
    /// both are programming errors, never data errors.
    pub fn field(mut self, name: impl Into<String>, schema: Schema) -> Self {
        let name = name.into();
        assert_eq!(self.inner.ty, SchemaType::Struct, "fields only belong on structs");
        assert!(
            self.inner.fields.iter().all(|f| f.name != name),
            "duplicate field {name}"
        );
        let index = self.inner.fields.len();
        self.inner.fields.push(Field { name, index, schema });
        self
    }
    /// Appends a struct field, returning an error instead of panicking on a duplicate name.
    pub fn try_field(self, name: impl Into<String>, schema: Schema) -> Result<Self, crate::DataError> {
        let name = name.into();
        if self.inner.ty != SchemaType::Struct {
            return Err(crate::DataError::new(
                "Cannot create fields on type ".to_string() + self.inner.ty.java_name(),
            ));
        }
        if self.inner.fields.iter().any(|f| f.name == name) {
            return Err(crate::DataError::new(format!(
                "Cannot create field because of field name duplication {name}"
            )));
        }
        Ok(self.field(name, schema))
    }
    /// Finishes the schema.
    pub fn build(self) -> Schema {
        Schema(Arc::new(self.inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_struct_with_ordered_fields() {
        let s = Schema::struct_builder()
            .name("a.b.Value")
            .field("id", Schema::int32())
            .field("name", Schema::optional_string())
            .build();
        assert_eq!(s.fields().len(), 2);
        assert_eq!(s.field("name").unwrap().index(), 1);
        assert!(s.field("name").unwrap().schema().is_optional());
        assert_eq!(s.name(), Some("a.b.Value"));
    }

    #[test]
    fn decimal_keeps_scale_parameter() {
        let d = Schema::decimal(2).optional().build();
        assert!(d.is_logical(logical::DECIMAL));
        assert_eq!(d.parameter("scale"), Some("2"));
        assert_eq!(d.version(), Some(1));
    }

    #[test]
    fn duplicate_field_is_an_error() {
        let b = Schema::struct_builder().field("a", Schema::int8());
        assert!(b.try_field("a", Schema::int8()).is_err());
    }
}
