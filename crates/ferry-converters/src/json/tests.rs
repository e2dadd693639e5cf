//! Cases ported from Kafka's JsonConverterTest plus exact-byte checks.

use std::str::FromStr;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use ferry_core::{ConfigMap, Converter, HeaderConverter, Schema, SchemaAndValue, SchemaType, Struct, Value};

use super::*;

fn conv(pairs: &[(&str, &str)]) -> JsonConverter {
    let mut c = JsonConverter::new();
    let conf: ConfigMap = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Converter::configure(&mut c, &conf, false).unwrap();
    c
}

fn to_json(c: &JsonConverter, schema: Option<&Schema>, v: &Value) -> String {
    String::from_utf8(c.from_connect("topic", schema, v).unwrap().unwrap()).unwrap()
}

fn to_connect(c: &JsonConverter, s: &str) -> SchemaAndValue {
    c.to_connect("topic", Some(s.as_bytes())).unwrap()
}

fn sv(schema: Schema, value: Value) -> SchemaAndValue {
    SchemaAndValue {
        schema: Some(schema),
        value,
    }
}

fn dec(unscaled: &str, scale: i64) -> BigDecimal {
    BigDecimal::new(BigInt::from_str(unscaled).unwrap(), scale)
}

fn assert_same_decimal(v: &Value, unscaled: &str, scale: i64) {
    let Value::Decimal(d) = v else {
        panic!("not a decimal: {v:?}")
    };
    let (u, s) = d.as_bigint_and_exponent();
    assert_eq!((u.to_string(), s), (unscaled.to_string(), scale));
}

// ---- schema metadata ----

#[test]
fn connect_schema_metadata_translation() {
    let c = conv(&[]);
    assert_eq!(
        to_connect(&c, r#"{ "schema": { "type": "boolean" }, "payload": true }"#),
        sv(Schema::boolean(), Value::Boolean(true))
    );
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "boolean", "optional": true }, "payload": null }"#
        ),
        sv(Schema::optional_boolean(), Value::Null)
    );
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "boolean", "default": true }, "payload": null }"#
        ),
        sv(
            Schema::builder(SchemaType::Boolean)
                .default_value(Value::Boolean(true))
                .build(),
            Value::Boolean(true)
        )
    );
    let expected = Schema::builder(SchemaType::Boolean)
        .name("bool")
        .version(2)
        .doc("the documentation")
        .parameter("foo", "bar")
        .build();
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }"#
        ),
        sv(expected, Value::Boolean(true))
    );
}

#[test]
fn json_schema_metadata_translation() {
    let c = conv(&[]);
    assert_eq!(
        to_json(&c, Some(&Schema::boolean()), &Value::Boolean(true)),
        r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#
    );
    assert_eq!(
        to_json(&c, Some(&Schema::optional_boolean()), &Value::Null),
        r#"{"schema":{"type":"boolean","optional":true},"payload":null}"#
    );
    let with_default = Schema::builder(SchemaType::Boolean)
        .default_value(Value::Boolean(true))
        .build();
    assert_eq!(
        to_json(&c, Some(&with_default), &Value::Boolean(true)),
        r#"{"schema":{"type":"boolean","optional":false,"default":true},"payload":true}"#
    );
    let full = Schema::builder(SchemaType::Boolean)
        .name("bool")
        .version(3)
        .doc("the documentation")
        .parameter("foo", "bar")
        .build();
    assert_eq!(
        to_json(&c, Some(&full), &Value::Boolean(true)),
        r#"{"schema":{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"}},"payload":true}"#
    );
}

// ---- primitives to Connect ----

#[test]
fn primitives_to_connect() {
    let c = conv(&[]);
    let cases: Vec<(&str, SchemaAndValue)> = vec![
        (
            r#"{ "schema": { "type": "boolean" }, "payload": false }"#,
            sv(Schema::boolean(), Value::Boolean(false)),
        ),
        (
            r#"{ "schema": { "type": "int8" }, "payload": 12 }"#,
            sv(Schema::int8(), Value::Int8(12)),
        ),
        (
            r#"{ "schema": { "type": "int16" }, "payload": 12 }"#,
            sv(Schema::int16(), Value::Int16(12)),
        ),
        (
            r#"{ "schema": { "type": "int32" }, "payload": 12 }"#,
            sv(Schema::int32(), Value::Int32(12)),
        ),
        (
            r#"{ "schema": { "type": "int64" }, "payload": 12 }"#,
            sv(Schema::int64(), Value::Int64(12)),
        ),
        (
            r#"{ "schema": { "type": "int64" }, "payload": 4398046511104 }"#,
            sv(Schema::int64(), Value::Int64(4398046511104)),
        ),
        (
            r#"{ "schema": { "type": "float" }, "payload": 12.34 }"#,
            sv(Schema::float32(), Value::Float32(12.34)),
        ),
        (
            r#"{ "schema": { "type": "double" }, "payload": 12.34 }"#,
            sv(Schema::float64(), Value::Float64(12.34)),
        ),
        (
            r#"{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }"#,
            sv(Schema::string(), Value::from("foo-bar-baz")),
        ),
        (
            r#"{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }"#,
            sv(Schema::bytes(), Value::Bytes(b"test-string".to_vec().into())),
        ),
    ];
    for (json, want) in cases {
        assert_eq!(to_connect(&c, json), want, "{json}");
    }
}

#[test]
fn numbers_with_leading_zeros_to_connect() {
    let c = conv(&[]);
    assert_eq!(
        to_connect(&c, r#"{ "schema": { "type": "int8" }, "payload": 0012 }"#).value,
        Value::Int8(12)
    );
    assert_eq!(
        to_connect(&c, r#"{ "schema": { "type": "int16" }, "payload": 000123 }"#).value,
        Value::Int16(123)
    );
    assert_eq!(
        to_connect(&c, r#"{ "schema": { "type": "int32" }, "payload": 000012345 }"#).value,
        Value::Int32(12345)
    );
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "int64" }, "payload": 00000123456789 }"#
        )
        .value,
        Value::Int64(123456789)
    );
}

// ---- complex types to Connect ----

#[test]
fn array_and_maps_to_connect() {
    let c = conv(&[]);
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }"#
        ),
        sv(
            Schema::array(Schema::int32()).build(),
            Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)])
        )
    );
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, "payload": { "key1": 12, "key2": 15} }"#
        ),
        sv(
            Schema::map(Schema::string(), Schema::int32()).build(),
            Value::Map(vec![
                (Value::from("key1"), Value::Int32(12)),
                (Value::from("key2"), Value::Int32(15))
            ])
        )
    );
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }"#
        ),
        sv(
            Schema::map(Schema::int32(), Schema::int32()).build(),
            Value::Map(vec![
                (Value::Int32(1), Value::Int32(12)),
                (Value::Int32(2), Value::Int32(15))
            ])
        )
    );
}

#[test]
fn structs_to_connect() {
    let c = conv(&[]);
    let schema = Schema::struct_builder()
        .field("field1", Schema::boolean())
        .field("field2", Schema::string())
        .build();
    let mut expected = Struct::new(schema.clone());
    expected
        .put("field1", true)
        .unwrap()
        .put("field2", "string")
        .unwrap();
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }"#
        ),
        sv(schema, Value::Struct(expected))
    );

    let schema = Schema::struct_builder()
        .field("optional", Schema::optional_string())
        .field("required", Schema::string())
        .build();
    let mut expected = Struct::new(schema.clone());
    expected.put("required", "required").unwrap();
    assert_eq!(
        to_connect(
            &c,
            r#"{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }"#
        ),
        sv(schema, Value::Struct(expected))
    );
}

#[test]
fn nested_struct_round_trip() {
    let c = conv(&[]);
    let inner = Schema::struct_builder()
        .name("inner")
        .optional()
        .field("x", Schema::int64())
        .field("tags", Schema::array(Schema::string()).optional().build())
        .build();
    let outer = Schema::struct_builder()
        .name("outer")
        .field("a", inner.clone())
        .field(
            "m",
            Schema::map(Schema::int32(), Schema::optional_string()).build(),
        )
        .build();
    let mut i = Struct::new(inner.clone());
    i.put("x", 5i64).unwrap();
    i.put("tags", Value::Array(vec![Value::from("p")])).unwrap();
    let mut o = Struct::new(outer.clone());
    o.put("a", i).unwrap();
    o.put("m", Value::Map(vec![(Value::Int32(1), Value::Null)]))
        .unwrap();
    let json = to_json(&c, Some(&outer), &Value::Struct(o.clone()));
    assert_eq!(
        json,
        concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"struct","fields":[{"type":"int64","optional":false,"field":"x"},"#,
            r#"{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"}],"#,
            r#""optional":true,"name":"inner","field":"a"},"#,
            r#"{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true},"optional":false,"field":"m"}],"#,
            r#""optional":false,"name":"outer"},"#,
            r#""payload":{"a":{"x":5,"tags":["p"]},"m":[[1,null]]}}"#
        )
    );
    let back = to_connect(&c, &json);
    assert_eq!(back, sv(outer, Value::Struct(o)));
}

#[test]
fn null_to_connect() {
    let c = conv(&[]);
    assert_eq!(c.to_connect("topic", None).unwrap(), SchemaAndValue::NULL);
    let c = conv(&[("schemas.enable", "false")]);
    assert_eq!(c.to_connect("topic", Some(b"")).unwrap(), SchemaAndValue::NULL);
}

#[test]
fn empty_bytes_with_schemas_is_an_envelope_error() {
    let c = conv(&[]);
    assert_eq!(
        c.to_connect("topic", Some(b"")).unwrap_err().to_string(),
        ENVELOPE_ERROR
    );
}

#[test]
fn schemaless_with_empty_field_value_to_connect() {
    let c = conv(&[("schemas.enable", "false")]);
    assert_eq!(
        to_connect(&c, r#"{ "a": "", "b": null}"#),
        SchemaAndValue {
            schema: None,
            value: Value::Map(vec![
                (Value::from("a"), Value::from("")),
                (Value::from("b"), Value::Null)
            ])
        }
    );
}

#[test]
fn null_schema_primitive_to_connect() {
    let c = conv(&[]);
    let v = |s: &str| {
        let r = to_connect(&c, s);
        assert!(r.schema.is_none());
        r.value
    };
    assert_eq!(v(r#"{ "schema": null, "payload": null }"#), Value::Null);
    assert_eq!(v(r#"{ "schema": null, "payload": true }"#), Value::Boolean(true));
    assert_eq!(v(r#"{ "schema": null, "payload": 12 }"#), Value::Int64(12));
    assert_eq!(
        v(r#"{ "schema": null, "payload": 12.24 }"#),
        Value::Float64(12.24)
    );
    assert_eq!(
        v(r#"{ "schema": null, "payload": "a string" }"#),
        Value::from("a string")
    );
    assert_eq!(
        v(r#"{ "schema": null, "payload": [1, "2", 3] }"#),
        Value::Array(vec![Value::Int64(1), Value::from("2"), Value::Int64(3)])
    );
    assert_eq!(
        v(r#"{ "schema": null, "payload": { "field1": 1, "field2": 2} }"#),
        Value::Map(vec![
            (Value::from("field1"), Value::Int64(1)),
            (Value::from("field2"), Value::Int64(2))
        ])
    );
}

// ---- logical types to Connect ----

const DECIMAL_SCHEMA_2: &str = r#"{ "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }"#;

#[test]
fn decimal_to_connect() {
    let c = conv(&[]);
    let r = to_connect(
        &c,
        &format!(r#"{{ "schema": {DECIMAL_SCHEMA_2}, "payload": "AJw=" }}"#),
    );
    assert_eq!(r.schema, Some(Schema::decimal(2).build()));
    assert_same_decimal(&r.value, "156", 2);

    let r = to_connect(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "optional": true, "parameters": { "scale": "2" } }, "payload": null }"#,
    );
    assert_eq!(r, sv(Schema::decimal(2).optional().build(), Value::Null));

    let r = to_connect(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "default": "AJw=", "parameters": { "scale": "2" } }, "payload": null }"#,
    );
    assert_eq!(
        r.schema,
        Some(
            Schema::decimal(2)
                .default_value(Value::Decimal(dec("156", 2)))
                .build()
        )
    );
    assert_same_decimal(&r.value, "156", 2);

    let r = to_connect(
        &c,
        &format!(r#"{{ "schema": {DECIMAL_SCHEMA_2}, "payload": 1.56 }}"#),
    );
    assert_same_decimal(&r.value, "156", 2);

    let r = to_connect(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "4" } }, "payload": 1.5600 }"#,
    );
    assert_same_decimal(&r.value, "15600", 4);

    let r = to_connect(
        &c,
        r#"{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "17" } }, "payload": 1.23456789123456789 }"#,
    );
    assert_same_decimal(&r.value, "123456789123456789", 17);
}

#[test]
fn temporal_to_connect() {
    let c = conv(&[]);
    let date = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 10000 }"#;
    assert_eq!(
        to_connect(&c, date),
        sv(Schema::date().build(), Value::Int32(10000))
    );
    let date_default = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1, "optional": true, "default": 0 }, "payload": null }"#;
    assert_eq!(
        to_connect(&c, date_default),
        sv(
            Schema::date().optional().default_value(Value::Int32(0)).build(),
            Value::Int32(0)
        )
    );
    let time = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 14400000 }"#;
    assert_eq!(
        to_connect(&c, time),
        sv(Schema::time().build(), Value::Int32(14400000))
    );
    let time_opt = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1, "optional": true }, "payload": null }"#;
    assert_eq!(
        to_connect(&c, time_opt),
        sv(Schema::time().optional().build(), Value::Null)
    );
    let ts = r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }, "payload": 4000000000 }"#;
    assert_eq!(
        to_connect(&c, ts),
        sv(Schema::timestamp().build(), Value::Int64(4000000000))
    );
    let ts_default = r#"{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "default": 42 }, "payload": null }"#;
    assert_eq!(
        to_connect(&c, ts_default),
        sv(
            Schema::timestamp().default_value(Value::Int64(42)).build(),
            Value::Int64(42)
        )
    );
    let bad = r#"{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": "x" }"#;
    assert_eq!(
        c.to_connect("t", Some(bad.as_bytes())).unwrap_err().to_string(),
        "Invalid type for Date, underlying representation should be integer but was STRING"
    );
}

// ---- primitives to JSON ----

#[test]
fn primitives_to_json_exact_bytes() {
    let c = conv(&[]);
    let cases: Vec<(Schema, Value, &str)> = vec![
        (
            Schema::int8(),
            Value::Int8(12),
            r#"{"schema":{"type":"int8","optional":false},"payload":12}"#,
        ),
        (
            Schema::int16(),
            Value::Int16(12),
            r#"{"schema":{"type":"int16","optional":false},"payload":12}"#,
        ),
        (
            Schema::int32(),
            Value::Int32(12),
            r#"{"schema":{"type":"int32","optional":false},"payload":12}"#,
        ),
        (
            Schema::int64(),
            Value::Int64(4398046511104),
            r#"{"schema":{"type":"int64","optional":false},"payload":4398046511104}"#,
        ),
        (
            Schema::float32(),
            Value::Float32(12.34),
            r#"{"schema":{"type":"float","optional":false},"payload":12.34}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(12.34),
            r#"{"schema":{"type":"double","optional":false},"payload":12.34}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(1.5e10),
            r#"{"schema":{"type":"double","optional":false},"payload":1.5E10}"#,
        ),
        (
            Schema::float64(),
            Value::Float64(3.0),
            r#"{"schema":{"type":"double","optional":false},"payload":3.0}"#,
        ),
        (
            Schema::bytes(),
            Value::Bytes(b"test-string".to_vec().into()),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}"#,
        ),
        (
            Schema::string(),
            Value::from("test-string"),
            r#"{"schema":{"type":"string","optional":false},"payload":"test-string"}"#,
        ),
    ];
    for (schema, value, want) in cases {
        assert_eq!(to_json(&c, Some(&schema), &value), want);
        let back = to_connect(&c, want);
        assert_eq!(back, sv(schema, value));
    }
}

#[test]
fn complex_to_json() {
    let c = conv(&[]);
    assert_eq!(
        to_json(
            &c,
            Some(&Schema::array(Schema::int32()).build()),
            &Value::Array(vec![Value::Int32(1), Value::Int32(2), Value::Int32(3)])
        ),
        r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}"#
    );
    assert_eq!(
        to_json(
            &c,
            Some(&Schema::map(Schema::string(), Schema::int32()).build()),
            &Value::Map(vec![
                (Value::from("key1"), Value::Int32(12)),
                (Value::from("key2"), Value::Int32(15))
            ])
        ),
        r#"{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}"#
    );
    assert_eq!(
        to_json(
            &c,
            Some(&Schema::map(Schema::int32(), Schema::int32()).build()),
            &Value::Map(vec![
                (Value::Int32(1), Value::Int32(12)),
                (Value::Int32(2), Value::Int32(15))
            ])
        ),
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}"#
    );
    let schema = Schema::struct_builder()
        .field("field1", Schema::boolean())
        .field("field2", Schema::string())
        .field("field3", Schema::string())
        .field("field4", Schema::boolean())
        .build();
    let mut s = Struct::new(schema.clone());
    s.put("field1", true).unwrap().put("field2", "string2").unwrap();
    s.put("field3", "string3").unwrap().put("field4", false).unwrap();
    assert_eq!(
        to_json(&c, Some(&schema), &Value::Struct(s)),
        r#"{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":false,"field":"field3"},{"type":"boolean","optional":false,"field":"field4"}],"optional":false},"payload":{"field1":true,"field2":"string2","field3":"string3","field4":false}}"#
    );
}

#[test]
fn struct_with_equal_but_distinct_schema_is_accepted() {
    let c = conv(&[]);
    let build = || Schema::struct_builder().field("f", Schema::boolean()).build();
    let mut s = Struct::new(build());
    s.put("f", true).unwrap();
    assert_eq!(
        to_json(&c, Some(&build()), &Value::Struct(s)),
        r#"{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"f"}],"optional":false},"payload":{"f":true}}"#
    );
}

#[test]
fn decimals_to_json() {
    let c = conv(&[]);
    let v = Value::Decimal(dec("156", 2));
    assert_eq!(
        to_json(&c, Some(&Schema::decimal(2).build()), &v),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}"#
    );
    let n = conv(&[("decimal.format", "NUMERIC")]);
    assert_eq!(
        to_json(&n, Some(&Schema::decimal(2).build()), &v),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":1.56}"#
    );
    let n = conv(&[("decimal.format", "numeric")]);
    assert_eq!(
        to_json(
            &n,
            Some(&Schema::decimal(4).build()),
            &Value::Decimal(dec("15600", 4))
        ),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"4"}},"payload":1.5600}"#
    );
    assert_eq!(
        to_json(
            &c,
            Some(&Schema::decimal(0).build()),
            &Value::Decimal(dec("-1", 0))
        ),
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"0"}},"payload":"/w=="}"#
    );
    let e = c.from_connect("t", None, &v).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Java class class java.math.BigDecimal does not have corresponding schema type."
    );
    let e = c
        .from_connect("t", Some(&Schema::decimal(3).build()), &v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Decimal value has mismatching scale for given Decimal schema. Schema has scale 3, value has scale 2."
    );
    assert!(JsonConverter::definition()
        .validate(
            &[("decimal.format".to_string(), "HEX".to_string())]
                .into_iter()
                .collect()
        )
        .iter()
        .any(|v| !v.errors.is_empty()));
}

#[test]
fn temporal_to_json() {
    let c = conv(&[]);
    assert_eq!(
        to_json(&c, Some(&Schema::date().build()), &Value::Int32(10000)),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}"#
    );
    assert_eq!(
        to_json(&c, Some(&Schema::time().build()), &Value::Int32(14400000)),
        r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}"#
    );
    assert_eq!(
        to_json(&c, Some(&Schema::timestamp().build()), &Value::Int64(4000000000)),
        r#"{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}"#
    );
}

// ---- null schema / null value ----

#[test]
fn null_schema_to_json() {
    let c = conv(&[]);
    assert_eq!(
        to_json(&c, None, &Value::Boolean(true)),
        r#"{"schema":null,"payload":true}"#
    );
    assert_eq!(
        to_json(
            &c,
            None,
            &Value::Array(vec![Value::Int32(1), Value::from("string"), Value::Boolean(true)])
        ),
        r#"{"schema":null,"payload":[1,"string",true]}"#
    );
    assert_eq!(
        to_json(
            &c,
            None,
            &Value::Map(vec![
                (Value::from("key1"), Value::Int32(12)),
                (Value::from("key2"), Value::from("string")),
                (Value::from("key3"), Value::Boolean(true)),
            ])
        ),
        r#"{"schema":null,"payload":{"key1":12,"key2":"string","key3":true}}"#
    );
    assert_eq!(
        to_json(
            &c,
            None,
            &Value::Map(vec![
                (Value::from("string"), Value::Int32(12)),
                (Value::Int32(52), Value::from("string")),
                (Value::Boolean(false), Value::Boolean(true)),
            ])
        ),
        r#"{"schema":null,"payload":[["string",12],[52,"string"],[false,true]]}"#
    );
}

#[test]
fn null_schema_and_null_value_is_no_bytes() {
    for enabled in ["true", "false"] {
        let c = conv(&[("schemas.enable", enabled)]);
        assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
        let mut out = vec![1, 2, 3];
        assert!(!c.from_connect_into("t", None, &Value::Null, &mut out).unwrap());
        assert!(out.is_empty());
    }
}

#[test]
fn null_value_with_schema() {
    let c = conv(&[("schemas.enable", "false")]);
    assert_eq!(
        to_json(&c, Some(&Schema::optional_string()), &Value::Null),
        "null"
    );
    let e = conv(&[])
        .from_connect("t", Some(&Schema::string()), &Value::Null)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Conversion error: null value for field that is required and has no default value"
    );
}

#[test]
fn mismatched_schema_is_a_data_error() {
    let c = conv(&[]);
    let e = c
        .from_connect("t", Some(&Schema::float64()), &Value::Boolean(true))
        .unwrap_err();
    assert_eq!(e.to_string(), "Invalid type for FLOAT64: class java.lang.Boolean");
    let other = Schema::struct_builder().field("g", Schema::int8()).build();
    let s = Struct::new(Schema::struct_builder().field("f", Schema::int8()).build());
    let e = c
        .from_connect("t", Some(&other), &Value::Struct(s.clone()))
        .unwrap_err();
    assert_eq!(e.to_string(), "Mismatching schema.");
    let e = c.from_connect("t", None, &Value::Struct(s)).unwrap_err();
    assert_eq!(e.to_string(), "Mismatching schema.");
}

#[test]
fn no_schema_round_trip() {
    let c = conv(&[("schemas.enable", "false")]);
    assert_eq!(
        to_connect(&c, "true"),
        SchemaAndValue {
            schema: None,
            value: Value::Boolean(true)
        }
    );
    assert_eq!(to_json(&c, None, &Value::Boolean(true)), "true");
    let v = Value::Map(vec![
        (Value::from("a"), Value::Int64(1)),
        (
            Value::from("b"),
            Value::Array(vec![Value::Float64(0.5), Value::Null]),
        ),
    ]);
    let json = to_json(&c, None, &v);
    assert_eq!(json, r#"{"a":1,"b":[0.5,null]}"#);
    assert_eq!(to_connect(&c, &json).value, v);
}

// ---- envelope and syntax errors ----

#[test]
fn envelope_is_required_when_schemas_enabled() {
    let c = conv(&[]);
    for bad in [
        r#"{"payload":1}"#,
        r#"{"schema":null,"payload":1,"x":2}"#,
        "[1]",
        "12",
    ] {
        let e = c.to_connect("t", Some(bad.as_bytes())).unwrap_err();
        assert_eq!(e.to_string(), ENVELOPE_ERROR, "{bad}");
    }
    assert_eq!(
        ENVELOPE_ERROR,
        "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration."
    );
}

#[test]
fn malformed_json_is_a_data_error() {
    let c = conv(&[("schemas.enable", "false")]);
    let e = c.to_connect("t", Some(b"{\"a\":")).unwrap_err().to_string();
    assert!(
        e.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "),
        "{e}"
    );
}

#[test]
fn bad_schemas_are_rejected() {
    let c = conv(&[]);
    let err = |s: &str| c.to_connect("t", Some(s.as_bytes())).unwrap_err().to_string();
    assert_eq!(
        err(r#"{"schema":{"optional":true},"payload":1}"#),
        "Schema must contain 'type' field"
    );
    assert_eq!(
        err(r#"{"schema":{"type":"uint8"},"payload":1}"#),
        "Unknown schema type: uint8"
    );
    assert_eq!(
        err(r#"{"schema":{"type":"array"},"payload":[]}"#),
        "Array schema did not specify the element type"
    );
    assert_eq!(
        err(r#"{"schema":{"type":"struct","fields":{}},"payload":{}}"#),
        "Struct schema's \"fields\" argument is not an array."
    );
    assert_eq!(
        err(r#"{"schema":{"type":"int32"},"payload":null}"#),
        "Invalid null value for required INT32 field"
    );
    assert_eq!(
        err(r#"{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int32"}},"payload":[]}"#),
        "Maps with string fields should be encoded as JSON objects, but found ARRAY"
    );
}

// ---- replace.null.with.default ----

#[test]
fn replace_null_with_default() {
    let opt_default = Schema::builder(SchemaType::String)
        .optional()
        .default_value(Value::from("default"))
        .build();
    let on = conv(&[("replace.null.with.default", "true")]);
    let off = conv(&[("replace.null.with.default", "false")]);
    assert_eq!(
        to_json(&on, Some(&opt_default), &Value::Null),
        r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":"default"}"#
    );
    assert_eq!(
        to_json(&off, Some(&opt_default), &Value::Null),
        r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}"#
    );
    let doc = r#"{"schema":{"type":"string","optional":true,"default":"default"},"payload":null}"#;
    assert_eq!(to_connect(&on, doc).value, Value::from("default"));
    assert_eq!(to_connect(&off, doc).value, Value::Null);

    let st = Schema::struct_builder()
        .field("field1", opt_default.clone())
        .build();
    assert_eq!(
        to_json(&on, Some(&st), &Value::Struct(Struct::new(st.clone()))),
        r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default","field":"field1"}],"optional":false},"payload":{"field1":"default"}}"#
    );
    assert_eq!(
        to_json(&off, Some(&st), &Value::Struct(Struct::new(st.clone()))),
        r#"{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"default":"default","field":"field1"}],"optional":false},"payload":{"field1":null}}"#
    );
    let doc = r#"{"schema":{"type":"struct","fields":[{"field":"field1","type":"string","optional":true,"default":"default"}],"optional":false},"payload":{"field1":null}}"#;
    let mut with_default = Struct::new(st.clone());
    with_default.put("field1", "default").unwrap();
    assert_eq!(to_connect(&on, doc).value, Value::Struct(with_default));
    assert_eq!(to_connect(&off, doc).value, Value::Struct(Struct::new(st)));
}

// ---- headers ----

#[test]
fn header_conversion_delegates() {
    let mut c = JsonConverter::new();
    HeaderConverter::configure(&mut c, &ConfigMap::new()).unwrap();
    let bytes = c
        .from_connect_header(
            "topic",
            "headerName",
            Some(&Schema::string()),
            &Value::from("test-string"),
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        bytes,
        br#"{"schema":{"type":"string","optional":false},"payload":"test-string"}"#
    );
    let back = c
        .to_connect_header(
            "topic",
            "headerName",
            Some(br#"{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }"#),
        )
        .unwrap();
    assert_eq!(back, sv(Schema::string(), Value::from("foo-bar-baz")));
    let h = crate::json_header_converter();
    assert!(h.config_def().key(SCHEMAS_ENABLE_CONFIG).is_some());
}

// ---- caches ----

#[test]
fn schema_caches_return_shared_schemas() {
    let c = conv(&[]);
    let doc = r#"{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false},"payload":{"id":1}}"#;
    let a = to_connect(&c, doc);
    let b = to_connect(&c, doc);
    assert_eq!(a, b);
    let schema = a.schema.unwrap();
    // Writing the same schema twice hits the cache and yields the same bytes.
    let first = to_json(&c, Some(&schema), &a.value);
    let second = to_json(&c, Some(&schema), &a.value);
    assert_eq!(first, doc);
    assert_eq!(second, doc);
    let small = conv(&[("schemas.cache.size", "0")]);
    assert_eq!(to_json(&small, Some(&schema), &a.value), doc);
}

// ---- Debezium-like envelope, exact bytes ----

#[test]
fn debezium_envelope_exact_bytes() {
    let row = Schema::struct_builder()
        .name("dbserver1.inventory.customers.Value")
        .optional()
        .field("id", Schema::int32())
        .field("email", Schema::optional_string())
        .field("balance", Schema::decimal(2).optional().build())
        .build();
    let source = Schema::struct_builder()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", Schema::string())
        .field("connector", Schema::string())
        .field("ts_ms", Schema::int64())
        .field(
            "snapshot",
            Schema::builder(SchemaType::String)
                .optional()
                .name("io.debezium.data.Enum")
                .version(1)
                .parameter("allowed", "true,last,false,incremental")
                .default_value(Value::from("false"))
                .build(),
        )
        .field("lsn", Schema::optional_int64())
        .build();
    let envelope = Schema::struct_builder()
        .name("dbserver1.inventory.customers.Envelope")
        .version(1)
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source.clone())
        .field("op", Schema::string())
        .field("ts_ms", Schema::optional_int64())
        .build();

    let mut after = Struct::new(row.clone());
    after
        .put("id", 1001)
        .unwrap()
        .put("email", "sally@example.com")
        .unwrap();
    after.put("balance", Value::Decimal(dec("12345", 2))).unwrap();
    let mut src = Struct::new(source.clone());
    src.put("version", "2.7.0.Final")
        .unwrap()
        .put("connector", "postgresql")
        .unwrap();
    src.put("ts_ms", 1700000000000i64)
        .unwrap()
        .put("lsn", 24023128i64)
        .unwrap();
    let mut env = Struct::new(envelope.clone());
    env.put("after", after).unwrap().put("source", src).unwrap();
    env.put("op", "c")
        .unwrap()
        .put("ts_ms", 1700000000123i64)
        .unwrap();

    let c = conv(&[]);
    let json = to_json(&c, Some(&envelope), &Value::Struct(env.clone()));
    let expected = concat!(
        r#"{"schema":{"type":"struct","fields":["#,
        r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"email"},"#,
        r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"balance"}],"#,
        r#""optional":true,"name":"dbserver1.inventory.customers.Value","field":"before"},"#,
        r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"email"},"#,
        r#"{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"balance"}],"#,
        r#""optional":true,"name":"dbserver1.inventory.customers.Value","field":"after"},"#,
        r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},"#,
        r#"{"type":"int64","optional":false,"field":"ts_ms"},"#,
        r#"{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},"#,
        r#"{"type":"int64","optional":true,"field":"lsn"}],"optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source"},"#,
        r#"{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}],"#,
        r#""optional":false,"name":"dbserver1.inventory.customers.Envelope","version":1},"#,
        r#""payload":{"before":null,"after":{"id":1001,"email":"sally@example.com","balance":"MDk="},"#,
        r#""source":{"version":"2.7.0.Final","connector":"postgresql","ts_ms":1700000000000,"snapshot":"false","lsn":24023128},"#,
        r#""op":"c","ts_ms":1700000000123}}"#
    );
    assert_eq!(json, expected);

    // Reading it back yields an equal schema and the value with defaults applied.
    let back = to_connect(&c, &json);
    assert_eq!(back.schema.as_ref(), Some(&envelope));
    let Value::Struct(read) = &back.value else {
        panic!()
    };
    let source_back = read.get("source").and_then(Value::as_struct).unwrap();
    assert_eq!(source_back.get("snapshot"), Some(&Value::from("false")));
    assert_eq!(read.get("op"), Some(&Value::from("c")));
    // And writing the read value again gives the same bytes.
    assert_eq!(to_json(&c, back.schema.as_ref(), &back.value), expected);

    // Schemaless output of the same record is just the payload.
    let plain = conv(&[("schemas.enable", "false")]);
    let json = to_json(&plain, Some(&envelope), &Value::Struct(env));
    assert_eq!(
        json,
        &expected[expected.find("\"payload\":").unwrap() + 10..expected.len() - 1]
    );
}
