//! The Java classes behind Connect values and schema types, as Connect names them in messages.

use std::fmt;

use crate::{SchemaType, Value};

/// `getClass().getName()` of the object a value stands for (`java.lang.String`); `null` for null.
pub fn class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Decimal(_) => "java.math.BigDecimal",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        other => other.inferred_type().map_or("null", schema_type_class_name),
    }
}

/// `getClass().toString()` of the object a value stands for (`class java.lang.String`); `null` for null.
pub fn class_string(value: &Value) -> ClassString {
    ClassString(class_name(value))
}

/// Displays a class as `Class.toString` does (`class java.lang.Long`), or `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassString(&'static str);

impl fmt::Display for ClassString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            "null" => f.write_str("null"),
            name => write!(f, "class {name}"),
        }
    }
}

/// The Java class Connect expects for a schema type (`ConnectSchema.SCHEMA_TYPE_CLASSES`, first entry).
pub fn schema_type_class_name(ty: SchemaType) -> &'static str {
    match ty {
        SchemaType::Int8 => "java.lang.Byte",
        SchemaType::Int16 => "java.lang.Short",
        SchemaType::Int32 => "java.lang.Integer",
        SchemaType::Int64 => "java.lang.Long",
        SchemaType::Float32 => "java.lang.Float",
        SchemaType::Float64 => "java.lang.Double",
        SchemaType::Boolean => "java.lang.Boolean",
        SchemaType::String => "java.lang.String",
        SchemaType::Bytes => "[B",
        SchemaType::Array => "java.util.List",
        SchemaType::Map => "java.util.Map",
        SchemaType::Struct => "org.apache.kafka.connect.data.Struct",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schema;

    fn every_value() -> Vec<Value> {
        let s = crate::Struct::new(Schema::struct_builder().build());
        vec![
            Value::Null,
            Value::Boolean(true),
            Value::Int8(1),
            Value::Int16(1),
            Value::Int32(1),
            Value::Int64(1),
            Value::Float32(1.0),
            Value::Float64(1.0),
            Value::String("s".into()),
            Value::Bytes(vec![1].into()),
            Value::Decimal(1.into()),
            Value::Array(vec![]),
            Value::Map(vec![]),
            Value::Struct(s),
        ]
    }

    #[test]
    fn names_match_get_class() {
        let names: Vec<&str> = every_value().iter().map(class_name).collect();
        assert_eq!(
            names,
            [
                "null",
                "java.lang.Boolean",
                "java.lang.Byte",
                "java.lang.Short",
                "java.lang.Integer",
                "java.lang.Long",
                "java.lang.Float",
                "java.lang.Double",
                "java.lang.String",
                "[B",
                "java.math.BigDecimal",
                "java.util.ArrayList",
                "java.util.HashMap",
                "org.apache.kafka.connect.data.Struct",
            ]
        );
    }

    #[test]
    fn class_strings_prefix_the_name() {
        for v in every_value() {
            let want = match class_name(&v) {
                "null" => "null".to_string(),
                name => format!("class {name}"),
            };
            assert_eq!(class_string(&v).to_string(), want);
        }
        assert_eq!(schema_type_class_name(SchemaType::Int16), "java.lang.Short");
        assert_eq!(schema_type_class_name(SchemaType::Float64), "java.lang.Double");
    }
}
