//! InsertField, ReplaceField, MaskField, ValueToKey, ExtractField, HoistField, Flatten,
//! SetSchemaMetadata: schemaful and schemaless, with cases from Kafka's tests.

mod common;

use common::*;
use ferry_core::{Record, Schema, SchemaType, Struct, Value};

#[test]
fn insert_field_with_schema() {
    let mut t = xform(
        "org.apache.kafka.connect.transforms.InsertField$Value",
        &[
            ("topic.field", "topic_field!"),
            ("partition.field", "partition_field"),
            ("timestamp.field", "timestamp_field?"),
            ("static.field", "instance_id"),
            ("static.value", "my-instance-id"),
        ],
    );
    let schema = Schema::struct_builder()
        .name("name")
        .version(1)
        .doc("doc")
        .field("magic", Schema::optional_int64())
        .build();
    let mut v = Struct::new(schema.clone());
    v.put("magic", 42i64).unwrap();
    let mut rec = Record::new("test", Some(schema), Value::Struct(v));
    rec.kafka_partition = Some(0);
    rec.timestamp = Some(1_483_425_001_864);
    let out = apply(&mut t, rec);
    let os = out.value_schema.clone().unwrap();
    assert_eq!(os.name(), Some("name"));
    assert_eq!(os.version(), Some(1));
    assert_eq!(os.doc(), Some("doc"));
    let names: Vec<&str> = os.fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "magic",
            "topic_field",
            "partition_field",
            "timestamp_field",
            "instance_id"
        ]
    );
    assert_eq!(os.field("topic_field").unwrap().schema(), &Schema::string());
    assert_eq!(
        os.field("partition_field").unwrap().schema(),
        &Schema::optional_int32()
    );
    assert_eq!(
        os.field("timestamp_field").unwrap().schema(),
        &Schema::timestamp().optional().build()
    );
    let s = out.value.as_struct().unwrap();
    assert_eq!(s.get("magic"), Some(&Value::Int64(42)));
    assert_eq!(s.get("topic_field"), Some(&s_("test")));
    assert_eq!(s.get("partition_field"), Some(&Value::Int32(0)));
    assert_eq!(s.get("timestamp_field"), Some(&Value::Int64(1_483_425_001_864)));
    assert_eq!(s.get("instance_id"), Some(&s_("my-instance-id")));
    s.validate().unwrap();
}

fn s_(v: &str) -> Value {
    s(v)
}

#[test]
fn insert_field_schemaless_and_offsets() {
    let mut t = xform(
        "InsertField$Value",
        &[
            ("topic.field", "topic_field!"),
            ("offset.field", "off"),
            ("static.field", "instance_id"),
            ("static.value", "x"),
        ],
    );
    let out = apply(
        &mut t,
        sink_record("test", map(&[("magic", Value::Int64(42))]), 7),
    );
    assert_eq!(
        out.value,
        map(&[
            ("magic", Value::Int64(42)),
            ("topic_field", s("test")),
            ("off", Value::Int64(7)),
            ("instance_id", s("x")),
        ])
    );
    // Offsets only exist on sink records.
    let e = err(&mut t, Record::new("test", None, map(&[])));
    assert!(
        e.starts_with("Only SinkRecord supported for [field insertion]"),
        "{e}"
    );
    // Tombstones pass through.
    let out = apply(&mut t, sink_record("test", Value::Null, 1));
    assert_eq!(out.value, Value::Null);
    // Non-map schemaless values are rejected with Connect's message.
    let e = err(&mut t, sink_record("test", Value::Int32(1), 1));
    assert_eq!(
        e,
        "Only Map objects supported in absence of schema for [field insertion], found: java.lang.Integer"
    );
}

#[test]
fn insert_field_config_errors() {
    let e = try_xform("InsertField$Key", &[]).err().unwrap();
    assert_eq!(e.to_string(), "No field insertion configured");
    let e = try_xform("InsertField$Key", &[("static.field", "a")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "Invalid value null for configuration static.value: No value specified for static field: a"
    );
}

#[test]
fn insert_field_key_side() {
    let mut t = xform("InsertField$Key", &[("topic.field", "t")]);
    let rec = Record::new("orders", None, Value::Null).with_key(None, map(&[("id", Value::Int32(1))]));
    let out = apply(&mut t, rec);
    assert_eq!(out.key, map(&[("id", Value::Int32(1)), ("t", s("orders"))]));
    assert_eq!(out.value, Value::Null);
}

#[test]
fn replace_field_schemaless() {
    let mut t = xform(
        "ReplaceField$Value",
        &[("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
    );
    let v = map(&[
        ("dont", s("whatever")),
        ("abc", Value::Int32(42)),
        ("foo", Value::Boolean(true)),
        ("etc", s("etc")),
    ]);
    let out = apply(&mut t, Record::new("t", None, v));
    assert_eq!(
        out.value,
        map(&[
            ("xyz", Value::Int32(42)),
            ("bar", Value::Boolean(true)),
            ("etc", s("etc"))
        ])
    );
}

#[test]
fn replace_field_with_schema_and_legacy_names() {
    for include_key in ["include", "whitelist"] {
        let mut t = xform(
            "ReplaceField$Value",
            &[(include_key, "abc,foo"), ("renames", "abc:xyz,foo:bar")],
        );
        let schema = Schema::struct_builder()
            .name("n")
            .field("dont", Schema::string())
            .field("abc", Schema::int32())
            .field("foo", Schema::boolean())
            .field("etc", Schema::string())
            .build();
        let mut v = Struct::new(schema.clone());
        v.put("dont", "whatever").unwrap();
        v.put("abc", 42).unwrap();
        v.put("foo", true).unwrap();
        v.put("etc", "etc").unwrap();
        let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
        let os = out.value_schema.unwrap();
        assert_eq!(os.name(), Some("n"));
        let names: Vec<&str> = os.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["xyz", "bar"]);
        let s = out.value.as_struct().unwrap();
        assert_eq!(s.values(), [Value::Int32(42), Value::Boolean(true)]);
    }
    let mut t = xform("ReplaceField$Value", &[("blacklist", "a")]);
    let out = apply(
        &mut t,
        Record::new("t", None, map(&[("a", Value::Int8(1)), ("b", Value::Int8(2))])),
    );
    assert_eq!(out.value, map(&[("b", Value::Int8(2))]));
}

#[test]
fn replace_field_bad_rename() {
    let e = try_xform("ReplaceField$Value", &[("renames", "a:b,c")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "Invalid value [a:b, c] for configuration renames: Invalid rename mapping: c"
    );
}

#[test]
fn mask_field_schemaless_and_schema() {
    let mut t = xform("MaskField$Value", &[("fields", "int,str,bool,arr,dec,missing")]);
    let v = map(&[
        ("int", Value::Int32(42)),
        ("str", s("secret")),
        ("bool", Value::Boolean(true)),
        ("arr", Value::Array(vec![Value::Int8(1)])),
        ("dec", Value::Decimal("42.1".parse().unwrap())),
        ("keep", s("k")),
    ]);
    let out = apply(&mut t, Record::new("t", None, v));
    assert_eq!(
        out.value,
        map(&[
            ("int", Value::Int32(0)),
            ("str", s("")),
            ("bool", Value::Boolean(false)),
            ("arr", Value::Array(vec![])),
            ("dec", Value::Decimal(0.into())),
            ("keep", s("k")),
            ("missing", Value::Null),
        ])
    );

    let mut t = xform("MaskField$Value", &[("fields", "i,st"), ("replacement", "123")]);
    let schema = Schema::struct_builder()
        .field("i", Schema::int64())
        .field("st", Schema::string())
        .field("o", Schema::int32())
        .build();
    let mut v = Struct::new(schema.clone());
    v.put("i", 5i64).unwrap();
    v.put("st", "pw").unwrap();
    v.put("o", 9).unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema.clone()), Value::Struct(v)));
    assert_eq!(out.value_schema, Some(schema));
    assert_eq!(
        out.value.as_struct().unwrap().values(),
        [Value::Int64(123), s("123"), Value::Int32(9)]
    );

    let mut t = xform("MaskField$Value", &[("fields", "b"), ("replacement", "x")]);
    let e = err(
        &mut t,
        Record::new("t", None, map(&[("b", Value::Boolean(true))])),
    );
    assert_eq!(
        e,
        "Cannot mask value of type class java.lang.Boolean with custom replacement."
    );
    let mut t = xform("MaskField$Value", &[("fields", "b"), ("replacement", "x")]);
    let e = err(&mut t, Record::new("t", None, map(&[("b", Value::Int32(1))])));
    assert_eq!(e, "Unable to convert x (class java.lang.String) to number");
    let e = try_xform("MaskField$Value", &[("fields", "")]).err().unwrap();
    assert_eq!(
        e.to_string(),
        "Invalid value [] for configuration fields: Empty list"
    );
}

#[test]
fn value_to_key() {
    let mut t = xform(
        "org.apache.kafka.connect.transforms.ValueToKey",
        &[("fields", "a,b")],
    );
    let v = map(&[
        ("a", Value::Int32(1)),
        ("b", Value::Int32(2)),
        ("c", Value::Int32(3)),
    ]);
    let out = apply(&mut t, Record::new("t", None, v.clone()));
    assert_eq!(out.key, map(&[("a", Value::Int32(1)), ("b", Value::Int32(2))]));
    assert_eq!(out.key_schema, None);
    assert_eq!(out.value, v);

    let schema = Schema::struct_builder()
        .field("a", Schema::int32())
        .field("b", Schema::int32())
        .field("c", Schema::int32())
        .build();
    let st = Struct::from_values(
        schema.clone(),
        vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema.clone()), Value::Struct(st)));
    let ks = out.key_schema.unwrap();
    assert_eq!(
        ks,
        Schema::struct_builder()
            .field("a", Schema::int32())
            .field("b", Schema::int32())
            .build()
    );
    assert_eq!(
        out.key.as_struct().unwrap().values(),
        [Value::Int32(1), Value::Int32(2)]
    );

    let mut t = xform("ValueToKey", &[("fields", "not_exist")]);
    let st = Struct::from_values(
        schema.clone(),
        vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)],
    )
    .unwrap();
    assert_eq!(
        err(&mut t, Record::new("t", Some(schema), Value::Struct(st))),
        "Field does not exist: not_exist"
    );
}

#[test]
fn extract_field() {
    let mut t = xform("ExtractField$Key", &[("field", "magic")]);
    let rec = Record::new("t", None, Value::Null).with_key(None, map(&[("magic", Value::Int32(42))]));
    let out = apply(&mut t, rec);
    assert_eq!(out.key, Value::Int32(42));
    assert_eq!(out.key_schema, None);

    let ks = Schema::struct_builder().field("magic", Schema::int32()).build();
    let st = Struct::from_values(ks.clone(), vec![Value::Int32(42)]).unwrap();
    let out = apply(
        &mut t,
        Record::new("t", None, Value::Null).with_key(Some(ks.clone()), Value::Struct(st)),
    );
    assert_eq!(out.key, Value::Int32(42));
    assert_eq!(out.key_schema, Some(Schema::int32()));
    // Null keys keep null, with the field schema.
    let out = apply(
        &mut t,
        Record::new("t", None, Value::Null).with_key(Some(ks), Value::Null),
    );
    assert_eq!((out.key_schema, out.key), (Some(Schema::int32()), Value::Null));

    let mut t = xform("ExtractField$Value", &[("field", "nope")]);
    let vs = Schema::struct_builder().field("magic", Schema::int32()).build();
    let st = Struct::from_values(vs.clone(), vec![Value::Int32(1)]).unwrap();
    assert_eq!(
        err(&mut t, Record::new("t", Some(vs), Value::Struct(st))),
        "Unknown field: nope"
    );

    // Nested access with field.syntax.version=V2.
    let mut t = xform(
        "ExtractField$Value",
        &[("field", "a.b"), ("field.syntax.version", "v2")],
    );
    let inner = Schema::struct_builder().field("b", Schema::string()).build();
    let outer = Schema::struct_builder().field("a", inner.clone()).build();
    let v = Struct::from_values(
        outer.clone(),
        vec![Value::Struct(
            Struct::from_values(inner, vec![s("deep")]).unwrap(),
        )],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(outer), Value::Struct(v)));
    assert_eq!((out.value_schema, out.value), (Some(Schema::string()), s("deep")));
    let out = apply(
        &mut t,
        Record::new("t", None, map(&[("a", map(&[("b", s("x"))]))])),
    );
    assert_eq!(out.value, s("x"));
}

#[test]
fn hoist_field() {
    let mut t = xform("HoistField$Value", &[("field", "magic")]);
    let out = apply(&mut t, Record::new("t", None, Value::Int32(42)));
    assert_eq!(out.value, map(&[("magic", Value::Int32(42))]));
    let out = apply(&mut t, Record::new("t", Some(Schema::int32()), Value::Int32(42)));
    let expected = Schema::struct_builder().field("magic", Schema::int32()).build();
    assert_eq!(out.value_schema, Some(expected.clone()));
    assert_eq!(
        out.value,
        Value::Struct(Struct::from_values(expected, vec![Value::Int32(42)]).unwrap())
    );
}

#[test]
fn flatten_schemaless_nested_maps() {
    let mut t = xform("Flatten$Value", &[("delimiter", "#")]);
    let v = map(&[
        (
            "A",
            map(&[
                ("B", map(&[("int8", Value::Int8(8)), ("string", s("s"))])),
                ("arr", Value::Array(vec![Value::Int32(1)])),
            ]),
        ),
        ("top", Value::Null),
    ]);
    let out = apply(&mut t, Record::new("t", None, v));
    assert_eq!(
        out.value,
        map(&[
            ("A#B#int8", Value::Int8(8)),
            ("A#B#string", s("s")),
            ("A#arr", Value::Array(vec![Value::Int32(1)])),
            ("top", Value::Null),
        ])
    );
}

#[test]
fn flatten_struct_propagates_optional() {
    let mut t = xform("Flatten$Value", &[]);
    let inner = Schema::struct_builder()
        .field("x", Schema::int32())
        .field("y", Schema::optional_string())
        .build();
    let optional_inner = inner.to_builder().optional().build();
    let schema = Schema::struct_builder()
        .name("top")
        .field("id", Schema::int64())
        .field("a", inner.clone())
        .field("b", optional_inner)
        .build();
    let a = Struct::from_values(inner, vec![Value::Int32(1), s("y")]).unwrap();
    let v = Struct::from_values(
        schema.clone(),
        vec![Value::Int64(9), Value::Struct(a), Value::Null],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
    let os = out.value_schema.unwrap();
    assert_eq!(os.name(), Some("top"));
    let fields: Vec<(&str, SchemaType, bool)> = os
        .fields()
        .iter()
        .map(|f| (f.name(), f.schema().schema_type(), f.schema().is_optional()))
        .collect();
    assert_eq!(
        fields,
        [
            ("id", SchemaType::Int64, false),
            ("a.x", SchemaType::Int32, false),
            ("a.y", SchemaType::String, true),
            ("b.x", SchemaType::Int32, true),
            ("b.y", SchemaType::String, true),
        ]
    );
    assert_eq!(
        out.value.as_struct().unwrap().values(),
        [Value::Int64(9), Value::Int32(1), s("y"), Value::Null, Value::Null]
    );

    let ms = Schema::struct_builder()
        .field("m", Schema::map(Schema::string(), Schema::string()).build())
        .build();
    let v = Struct::from_values(ms.clone(), vec![Value::Map(vec![])]).unwrap();
    assert_eq!(
        err(&mut t, Record::new("t", Some(ms), Value::Struct(v))),
        "Flatten transformation does not support MAP for record with schemas (for field m)."
    );
}

#[test]
fn set_schema_metadata() {
    let mut t = xform(
        "SetSchemaMetadata$Value",
        &[("schema.name", "foo"), ("schema.version", "42")],
    );
    let schema = Schema::struct_builder()
        .name("old")
        .field("a", Schema::int32())
        .build();
    let v = Struct::from_values(schema.clone(), vec![Value::Int32(1)]).unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
    let os = out.value_schema.unwrap();
    assert_eq!((os.name(), os.version()), (Some("foo"), Some(42)));
    let sv = out.value.as_struct().unwrap();
    assert_eq!(sv.schema(), &os);
    assert_eq!(sv.values(), [Value::Int32(1)]);

    let e = err(&mut t, Record::new("t", None, s("x")));
    assert_eq!(e, "Schema required for [updating schema metadata]");
    let out = apply(&mut t, Record::new("t", None, Value::Null));
    assert_eq!(out.value, Value::Null);
    let e = try_xform("SetSchemaMetadata$Key", &[]).err().unwrap();
    assert_eq!(e.to_string(), "Neither schema name nor version configured");
}
