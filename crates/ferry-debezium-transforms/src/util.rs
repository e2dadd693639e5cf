//! Small helpers mirroring the Connect `Struct` accessors Debezium relies on,
//! with the same error wording, plus a bounded schema cache.

use ferry_core::java;
use ferry_core::{DataError, Schema, SchemaBuilder, SchemaType, Struct, Value};

/// `Requirements.requireStruct`: the value as a struct, or Connect's error.
pub(crate) use ferry_transforms::util::require_struct;

fn not_a_field(name: &str) -> DataError {
    DataError::new(format!("{name} is not a valid field name"))
}

/// `Struct.get(name)`: the value, or the field's default when null.
pub(crate) fn get<'a>(s: &'a Struct, name: &str) -> Result<&'a Value, DataError> {
    s.get_or_default(name).ok_or_else(|| not_a_field(name))
}

/// `Struct.getWithoutDefault(name)`.
pub(crate) fn get_raw<'a>(s: &'a Struct, name: &str) -> Result<&'a Value, DataError> {
    s.get(name).ok_or_else(|| not_a_field(name))
}

fn get_checked<'a>(s: &'a Struct, name: &str, ty: SchemaType) -> Result<&'a Value, DataError> {
    let field = s.schema().field(name).ok_or_else(|| not_a_field(name))?;
    if field.schema().schema_type() != ty {
        return Err(DataError::new(format!(
            "Field '{name}' is not of type {}",
            ty.java_name()
        )));
    }
    Ok(s.get_index(field.index()).unwrap_or(&Value::Null))
}

/// `Struct.getString(name)`: type-checked, `None` for null.
pub(crate) fn get_string<'a>(s: &'a Struct, name: &str) -> Result<Option<&'a str>, DataError> {
    match get_checked(s, name, SchemaType::String)? {
        Value::String(v) => Ok(Some(v)),
        Value::Null => Ok(None),
        other => Err(mistyped(name, other)),
    }
}

/// `Struct.getInt64(name)`.
pub(crate) fn get_int64(s: &Struct, name: &str) -> Result<Option<i64>, DataError> {
    match get_checked(s, name, SchemaType::Int64)? {
        Value::Int64(v) => Ok(Some(*v)),
        Value::Null => Ok(None),
        other => Err(mistyped(name, other)),
    }
}

/// `Struct.getInt32(name)`.
pub(crate) fn get_int32(s: &Struct, name: &str) -> Result<Option<i32>, DataError> {
    match get_checked(s, name, SchemaType::Int32)? {
        Value::Int32(v) => Ok(Some(*v)),
        Value::Null => Ok(None),
        other => Err(mistyped(name, other)),
    }
}

/// `Struct.getStruct(name)`.
pub(crate) fn get_struct<'a>(s: &'a Struct, name: &str) -> Result<Option<&'a Struct>, DataError> {
    match get_checked(s, name, SchemaType::Struct)? {
        Value::Struct(v) => Ok(Some(v)),
        Value::Null => Ok(None),
        other => Err(mistyped(name, other)),
    }
}

fn mistyped(name: &str, value: &Value) -> DataError {
    DataError::new(format!(
        "Field '{name}' holds a {} that does not match its schema",
        java::class_name(value)
    ))
}

/// `SchemaUtil.copySchemaBasics(source, new SchemaBuilder(ty))`: name, version,
/// doc and parameters; neither optionality, default nor fields.
pub(crate) fn copy_schema_basics(source: &Schema, ty: SchemaType) -> SchemaBuilder {
    ferry_transforms::util::copy_schema_basics(source, SchemaBuilder::new(ty))
}

/// A setting as Debezium's `Field.group(config, null, ...)` defines it: no group, order 1,
/// no default (null), importance MEDIUM and width NONE unless set, no validator.
pub(crate) fn debezium_field(name: &str, ty: ferry_core::ConfigType, display: &str) -> ferry_core::ConfigKey {
    let mut key = ferry_core::ConfigKey::new(name, ty)
        .default_null()
        .display_name(display);
    key.order_in_group = 1;
    key
}

/// A small bounded cache from a key (usually an input schema) to a derived value.
///
/// Lookups compare with `PartialEq`, which for schemas is a pointer check first,
/// so records sharing one schema instance hit without a deep comparison.
#[derive(Debug)]
pub(crate) struct SchemaCache<K, V> {
    entries: Vec<(K, V)>,
    capacity: usize,
}

impl<K: PartialEq, V: Clone> SchemaCache<K, V> {
    /// A cache keeping at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        SchemaCache {
            entries: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// The cached value for `key`.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// Stores a value, evicting the oldest entry when full.
    pub(crate) fn put(&mut self, key: K, value: V) {
        if self.entries.len() >= self.capacity {
            self.entries.remove(0);
        }
        self.entries.push((key, value));
    }

    /// The cached value, or `make()` stored and returned.
    pub(crate) fn get_or_try_insert<E>(
        &mut self,
        key: &K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Clone,
    {
        if let Some(v) = self.get(key) {
            return Ok(v);
        }
        let v = make()?;
        self.put(key.clone(), v.clone());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_basics_drops_optional_and_fields() {
        let s = Schema::struct_builder()
            .name("a.Value")
            .version(3)
            .optional()
            .field("x", Schema::int32())
            .build();
        let c = copy_schema_basics(&s, SchemaType::Struct).build();
        assert_eq!(c.name(), Some("a.Value"));
        assert_eq!(c.version(), Some(3));
        assert!(!c.is_optional());
        assert!(c.fields().is_empty());
    }

    #[test]
    fn accessors_use_connect_wording() {
        let schema = Schema::struct_builder()
            .field("op", Schema::string())
            .field("n", Schema::int32())
            .build();
        let mut s = Struct::new(schema);
        s.put("op", "c").unwrap();
        assert_eq!(get_string(&s, "op").unwrap(), Some("c"));
        assert_eq!(
            get_string(&s, "n").unwrap_err().to_string(),
            "Field 'n' is not of type STRING"
        );
        assert_eq!(
            get(&s, "zz").unwrap_err().to_string(),
            "zz is not a valid field name"
        );
        assert_eq!(
            require_struct(&Value::from("x"), "P").unwrap_err().to_string(),
            "Only Struct objects supported for [P], found: java.lang.String"
        );
    }

    #[test]
    fn cache_is_bounded() {
        let mut c: SchemaCache<i32, i32> = SchemaCache::new(2);
        c.put(1, 10);
        c.put(2, 20);
        c.put(3, 30);
        assert_eq!(c.get(&1), None);
        assert_eq!(c.get(&3), Some(30));
    }
}
