//! Cast, TimestampConverter, routers, header transforms, Filter and the predicates.

mod common;

use common::*;
use ferry_core::{Record, Schema, Struct, Value};

const DATE_PLUS_TIME_UNIX: i64 = 86_401_234; // 1970-01-02T00:00:01.234Z
const STRING_DATE_FMT: &str = "yyyy MM dd HH mm ss SSS z";
const DATE_PLUS_TIME_STRING: &str = "1970 01 02 00 00 01 234 UTC";

#[test]
fn cast_whole_value() {
    let mut t = xform("Cast$Key", &[("spec", "int8")]);
    let rec = Record::new("t", None, Value::Null).with_key(Some(Schema::int32()), Value::Int32(42));
    let out = apply(&mut t, rec);
    assert_eq!((out.key_schema, out.key), (Some(Schema::int8()), Value::Int8(42)));

    let cases: [(&str, Value, Value); 8] = [
        ("int16", Value::Int32(42), Value::Int16(42)),
        ("int64", Value::Int32(42), Value::Int64(42)),
        ("float32", Value::Int32(42), Value::Float32(42.0)),
        ("float64", Value::Int32(42), Value::Float64(42.0)),
        ("boolean", Value::Int32(42), Value::Boolean(true)),
        ("boolean", Value::Int32(0), Value::Boolean(false)),
        ("string", Value::Int32(42), s("42")),
        ("string", Value::Float64(32.0), s("32.0")),
    ];
    for (spec, input, expected) in cases {
        let mut t = xform("Cast$Value", &[("spec", spec)]);
        let out = apply(&mut t, Record::new("t", None, input.clone()));
        assert_eq!(out.value, expected, "{spec} of {input:?} schemaless");
        assert_eq!(out.value_schema, None);
    }
    // Casting a whole value keeps the schema's name and optionality.
    let mut t = xform("Cast$Value", &[("spec", "int32")]);
    let schema = Schema::builder(ferry_core::SchemaType::Int64)
        .optional()
        .name("n")
        .build();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Int64(42)));
    let os = out.value_schema.unwrap();
    assert_eq!(
        (os.schema_type(), os.is_optional(), os.name()),
        (ferry_core::SchemaType::Int32, true, Some("n"))
    );
    assert_eq!(out.value, Value::Int32(42));
    // Default values are cast too.
    let schema = Schema::builder(ferry_core::SchemaType::Int64)
        .default_value(Value::Int64(-42))
        .build();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Int64(42)));
    assert_eq!(
        out.value_schema.unwrap().default_value(),
        Some(&Value::Int32(-42))
    );
}

#[test]
fn cast_fields_with_schema() {
    let mut t = xform(
        "Cast$Value",
        &[(
            "spec",
            "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigdecimal:string,date:string,timestamp:int64,bytes:string,optional:int32",
        )],
    );
    let schema = Schema::struct_builder()
        .field("int8", Schema::int8())
        .field("int16", Schema::optional_int16())
        .field(
            "int32",
            Schema::builder(ferry_core::SchemaType::Int32)
                .default_value(Value::Int32(2))
                .build(),
        )
        .field("int64", Schema::int64())
        .field("float32", Schema::float32())
        .field(
            "float64",
            Schema::builder(ferry_core::SchemaType::Float64)
                .default_value(Value::Float64(-1.125))
                .build(),
        )
        .field("boolean", Schema::boolean())
        .field("string", Schema::string())
        .field("bigdecimal", Schema::decimal(0).build())
        .field("date", Schema::date().build())
        .field("timestamp", Schema::timestamp().build())
        .field("bytes", Schema::bytes())
        .field("optional", Schema::optional_float32())
        .field("other", Schema::string())
        .build();
    let v = Struct::from_values(
        schema.clone(),
        vec![
            Value::Int8(8),
            Value::Int16(16),
            Value::Int32(32),
            Value::Int64(64),
            Value::Float32(32.0),
            Value::Float64(-64.0),
            Value::Boolean(true),
            s("42"),
            Value::Decimal("42".parse().unwrap()),
            Value::Int32(1),
            Value::Int64(0),
            Value::Bytes(vec![0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10].into()),
            Value::Null,
            s("untouched"),
        ],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
    let st = out.value.as_struct().unwrap();
    assert_eq!(
        st.values(),
        [
            Value::Int16(8),
            Value::Int32(16),
            Value::Int64(32),
            Value::Boolean(true),
            Value::Float64(32.0),
            Value::Boolean(true),
            Value::Int8(1),
            Value::Int32(42),
            s("42"),
            s("1970-01-02"),
            Value::Int64(0),
            s("/ty6mHZUMhA="),
            Value::Null,
            s("untouched"),
        ]
    );
    let os = st.schema();
    assert!(os.field("int16").unwrap().schema().is_optional());
    assert_eq!(
        os.field("int32").unwrap().schema().default_value(),
        Some(&Value::Int64(2))
    );
    assert_eq!(
        os.field("float64").unwrap().schema().default_value(),
        Some(&Value::Boolean(true))
    );
    assert_eq!(os.field("optional").unwrap().schema(), &Schema::optional_int32());
    st.validate().unwrap();
}

#[test]
fn cast_logical_to_primitive_and_overflow() {
    let mut t = xform(
        "Cast$Value",
        &[("spec", "date_to_int32:int32,decimal_to_int32:int32,timestamp_to_float64:float64,null_timestamp_to_int32:int32")],
    );
    let schema = Schema::struct_builder()
        .field("date_to_int32", Schema::date().build())
        .field("decimal_to_int32", Schema::decimal(0).build())
        .field("timestamp_to_float64", Schema::timestamp().build())
        .field("null_timestamp_to_int32", Schema::timestamp().optional().build())
        .build();
    let v = Struct::from_values(
        schema.clone(),
        vec![
            Value::Int32(1),
            Value::Decimal("2147483648".parse().unwrap()),
            Value::Int64(i64::MAX),
            Value::Null,
        ],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
    assert_eq!(
        out.value.as_struct().unwrap().values(),
        [
            Value::Int32(1),
            Value::Int32(i32::MIN),
            Value::Float64(9.223372036854776E18),
            Value::Null
        ]
    );
}

#[test]
fn cast_schemaless_fields_and_errors() {
    let mut t = xform("Cast$Value", &[("spec", "a:int8,b:string,missing:int32")]);
    let out = apply(
        &mut t,
        Record::new("t", None, map(&[("a", s("42")), ("b", Value::Float32(1.5))])),
    );
    assert_eq!(
        out.value,
        map(&[("a", Value::Int8(42)), ("b", s("1.5")), ("missing", Value::Null)])
    );
    let e = err(&mut t, Record::new("t", None, map(&[("a", s("300"))])));
    assert_eq!(e, "Value (300) was out of range for requested data type");
    let e = err(&mut t, Record::new("t", None, map(&[("a", map(&[]))])));
    assert_eq!(
        e,
        "Cast transformation does not support casting from MAP; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"
    );
    let mut t = xform("Cast$Value", &[("spec", "int8")]);
    let e = err(&mut t, Record::new("t", None, Value::Bytes(vec![1].into())));
    assert_eq!(e, "Unexpected type in Cast transformation: class [B");

    let cfg = |spec: &str| {
        try_xform("Cast$Value", &[("spec", spec)])
            .err()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        cfg("a:bytes"),
        "Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
    );
    assert_eq!(cfg("a:foo"), "Invalid type found in casting spec: foo");
    assert_eq!(
        cfg("int8,a:int32"),
        "Cast transformations that specify a type to cast the entire value to may only specify a single cast in their spec"
    );
    assert_eq!(cfg(""), "Must specify at least one field to cast.");
    assert_eq!(
        cfg("a:b:c"),
        "Invalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c"
    );
}

#[test]
fn timestamp_converter_whole_value() {
    let ts_schema = Schema::timestamp().build();
    let conv = |target: &str, extra: &[(&str, &str)], schema: Option<Schema>, v: Value| {
        let mut cfg = vec![("target.type", target)];
        cfg.extend_from_slice(extra);
        let mut t = xform("TimestampConverter$Value", &cfg);
        let out = apply(&mut t, Record::new("t", schema, v));
        (out.value_schema, out.value)
    };
    let fmt = [("format", STRING_DATE_FMT)];
    assert_eq!(
        conv(
            "string",
            &fmt,
            Some(ts_schema.clone()),
            Value::Int64(DATE_PLUS_TIME_UNIX)
        ),
        (Some(Schema::string()), s(DATE_PLUS_TIME_STRING))
    );
    assert_eq!(
        conv(
            "Timestamp",
            &fmt,
            Some(Schema::string()),
            s(DATE_PLUS_TIME_STRING)
        ),
        (Some(ts_schema.clone()), Value::Int64(DATE_PLUS_TIME_UNIX))
    );
    assert_eq!(
        conv(
            "Date",
            &[],
            Some(ts_schema.clone()),
            Value::Int64(DATE_PLUS_TIME_UNIX)
        ),
        (Some(Schema::date().build()), Value::Int32(1))
    );
    assert_eq!(
        conv(
            "Time",
            &[],
            Some(ts_schema.clone()),
            Value::Int64(DATE_PLUS_TIME_UNIX)
        ),
        (Some(Schema::time().build()), Value::Int32(1234))
    );
    assert_eq!(
        conv("unix", &[], Some(Schema::date().build()), Value::Int32(1)),
        (Some(Schema::int64()), Value::Int64(86_400_000))
    );
    for (precision, unix) in [
        ("seconds", 86_401i64),
        ("microseconds", 86_401_234_000),
        ("nanoseconds", 86_401_234_000_000),
    ] {
        assert_eq!(
            conv(
                "unix",
                &[("unix.precision", precision)],
                Some(ts_schema.clone()),
                Value::Int64(DATE_PLUS_TIME_UNIX)
            ),
            (Some(Schema::int64()), Value::Int64(unix))
        );
    }
    assert_eq!(
        conv(
            "Timestamp",
            &[("unix.precision", "microseconds")],
            None,
            Value::Int64(86_401_234_567)
        ),
        (None, Value::Int64(DATE_PLUS_TIME_UNIX))
    );
    // Schemaless strings and longs, nulls.
    assert_eq!(
        conv("unix", &fmt, None, s(DATE_PLUS_TIME_STRING)),
        (None, Value::Int64(DATE_PLUS_TIME_UNIX))
    );
    assert_eq!(conv("string", &fmt, None, Value::Null), (None, Value::Null));
    let opt_ts = Schema::timestamp().optional().build();
    assert_eq!(
        conv("string", &fmt, Some(opt_ts), Value::Null),
        (Some(Schema::optional_string()), Value::Null)
    );
}

#[test]
fn timestamp_converter_field_and_errors() {
    let mut t = xform(
        "TimestampConverter$Value",
        &[
            ("field", "ts"),
            ("target.type", "string"),
            ("format", "yyyy-MM-dd'T'HH:mm:ss.SSSX"),
        ],
    );
    let schema = Schema::struct_builder()
        .field("id", Schema::int32())
        .field("ts", Schema::timestamp().build())
        .build();
    let v = Struct::from_values(
        schema.clone(),
        vec![Value::Int32(1), Value::Int64(DATE_PLUS_TIME_UNIX)],
    )
    .unwrap();
    let out = apply(&mut t, Record::new("t", Some(schema), Value::Struct(v)));
    let st = out.value.as_struct().unwrap();
    assert_eq!(st.values(), [Value::Int32(1), s("1970-01-02T00:00:01.234Z")]);
    assert_eq!(st.schema().field("ts").unwrap().schema(), &Schema::string());

    let out = apply(
        &mut t,
        Record::new("t", None, map(&[("ts", Value::Int64(0)), ("x", Value::Int8(1))])),
    );
    assert_eq!(
        out.value,
        map(&[("ts", s("1970-01-01T00:00:00.000Z")), ("x", Value::Int8(1))])
    );

    let e = err(&mut t, Record::new("t", None, map(&[("ts", Value::Int32(0))])));
    assert_eq!(
        e,
        "TimestampConverter does not support class java.lang.Integer objects as timestamps"
    );
    let mut p = xform(
        "TimestampConverter$Value",
        &[("target.type", "unix"), ("format", "yyyy-MM-dd")],
    );
    let e = err(&mut p, Record::new("t", None, s("nope")));
    assert_eq!(
        e,
        "Could not parse timestamp: value (nope) does not match pattern (yyyy-MM-dd)"
    );

    let e = try_xform("TimestampConverter$Value", &[("target.type", "string")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "TimestampConverter requires format option to be specified when using string timestamps"
    );
    let e = try_xform("TimestampConverter$Value", &[("target.type", "foo")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "Invalid value foo for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp"
    );
    let e = try_xform(
        "TimestampConverter$Value",
        &[("target.type", "unix"), ("format", "bad-pattern")],
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: bad-pattern"
    );
}

#[test]
fn routers() {
    let mut t = xform("org.apache.kafka.connect.transforms.TimestampRouter", &[]);
    let out = apply(
        &mut t,
        Record::new("test", None, Value::Null).with_timestamp(Some(1_483_425_001_864)),
    );
    assert_eq!(&*out.topic, "test-20170103");
    let e = err(&mut t, Record::new("test", None, Value::Null));
    assert!(e.starts_with("Timestamp missing on record: "), "{e}");
    let mut t = xform(
        "TimestampRouter",
        &[
            ("topic.format", "${timestamp}_${topic}"),
            ("timestamp.format", "yyyy-MM"),
        ],
    );
    let out = apply(
        &mut t,
        Record::new("a$b", None, Value::Null).with_timestamp(Some(0)),
    );
    assert_eq!(&*out.topic, "1970-01_a$b");

    let route = |regex: &str, replacement: &str, topic: &str| {
        let mut t = xform("RegexRouter", &[("regex", regex), ("replacement", replacement)]);
        apply(&mut t, Record::new(topic, None, Value::Null))
            .topic
            .to_string()
    };
    assert_eq!(route("(.*)", "prefix-$1", "orig"), "prefix-orig");
    assert_eq!(route("(.*)", "$1-suffix", "orig"), "orig-suffix");
    assert_eq!(route("(.*)-(\\d\\d)", "$1", "foo-00"), "foo");
    assert_eq!(route("(.*)-(\\d\\d)", "$1", "foo-0"), "foo-0");
    assert_eq!(
        route(
            "dbserver1\\.inventory\\.(.*)",
            "inv_$1",
            "dbserver1.inventory.customers"
        ),
        "inv_customers"
    );
    let e = try_xform("RegexRouter", &[("regex", "(unclosed"), ("replacement", "x")])
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("Invalid value (unclosed for configuration regex: Invalid regex: "),
        "{e}"
    );
}

#[test]
fn header_transforms() {
    let mut t = xform("InsertHeader", &[("header", "h"), ("value.literal", "42")]);
    let out = apply(&mut t, Record::new("t", None, Value::Null));
    let h = out.headers.last_with_name("h").unwrap();
    assert_eq!(
        (h.schema.clone(), h.value.clone()),
        (Some(Schema::int8()), Value::Int8(42))
    );
    let mut t = xform(
        "InsertHeader",
        &[("header", "h"), ("value.literal", "hello world")],
    );
    let out = apply(&mut t, Record::new("t", None, Value::Null));
    assert_eq!(out.headers.last_with_name("h").unwrap().value, s("hello world"));
    // Connect 4.3's Values.parseString reads the first value only, and types lists:
    // "1,2" is the int8 1 (the removed copy of parseString made it a string).
    for (literal, schema, value) in [
        ("1,2", Schema::int8(), Value::Int8(1)),
        (
            "[1,1.5]",
            Schema::array(Schema::float32()).build(),
            Value::Array(vec![Value::Float32(1.0), Value::Float32(1.5)]),
        ),
    ] {
        let mut t = xform("InsertHeader", &[("header", "h"), ("value.literal", literal)]);
        let out = apply(&mut t, Record::new("t", None, Value::Null));
        let h = out.headers.last_with_name("h").unwrap();
        assert_eq!(
            (h.schema.clone(), h.value.clone()),
            (Some(schema), value),
            "{literal}"
        );
    }

    let mut t = xform("DropHeaders", &[("headers", "a,b")]);
    let mut r = Record::new("t", None, Value::Null);
    r.headers
        .add_string("a", "1")
        .add_string("c", "2")
        .add_string("b", "3")
        .add_string("a", "4");
    let out = apply(&mut t, r);
    let keys: Vec<&str> = out.headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["c"]);

    // HeaderFrom move, with schema.
    let mut t = xform(
        "HeaderFrom$Value",
        &[("fields", "f1,f2"), ("headers", "h1,h2"), ("operation", "move")],
    );
    let schema = Schema::struct_builder()
        .name("n")
        .field("f1", Schema::string())
        .field("f2", Schema::optional_int32())
        .field("f3", Schema::string())
        .build();
    let v = Struct::from_values(schema.clone(), vec![s("a"), Value::Int32(2), s("c")]).unwrap();
    let mut r = Record::new("t", Some(schema), Value::Struct(v));
    r.headers.add_string("h0", "x");
    let out = apply(&mut t, r);
    let os = out.value_schema.clone().unwrap();
    assert_eq!(os.name(), Some("n"));
    assert_eq!(os.fields().len(), 1);
    assert_eq!(out.value.as_struct().unwrap().values(), [s("c")]);
    let hs: Vec<(&str, Option<Schema>, Value)> = out
        .headers
        .iter()
        .map(|h| (h.key.as_str(), h.schema.clone(), h.value.clone()))
        .collect();
    assert_eq!(
        hs,
        [
            ("h0", Some(Schema::string()), s("x")),
            ("h1", Some(Schema::string()), s("a")),
            ("h2", Some(Schema::optional_int32()), Value::Int32(2)),
        ]
    );
    // HeaderFrom copy, schemaless.
    let mut t = xform(
        "HeaderFrom$Key",
        &[("fields", "id"), ("headers", "key_id"), ("operation", "copy")],
    );
    let r = Record::new("t", None, Value::Null).with_key(None, map(&[("id", Value::Int32(5))]));
    let out = apply(&mut t, r);
    assert_eq!(out.key, map(&[("id", Value::Int32(5))]));
    let h = out.headers.last_with_name("key_id").unwrap();
    assert_eq!((h.schema.clone(), h.value.clone()), (None, Value::Int32(5)));
    let e = try_xform(
        "HeaderFrom$Key",
        &[("fields", "a,b"), ("headers", "h"), ("operation", "copy")],
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "'fields' config must have the same number of elements as 'headers' config."
    );

    let mut f = xform("org.apache.kafka.connect.transforms.Filter", &[]);
    assert!(f.apply(Record::new("t", None, Value::Null)).unwrap().is_none());
}

#[test]
fn predicates() {
    let p = try_predicate(
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        &[("pattern", "my-prefix-.*")],
    )
    .unwrap();
    assert!(p.test(&Record::new("my-prefix-foo", None, Value::Null)));
    assert!(!p.test(&Record::new("x-my-prefix-foo", None, Value::Null)));
    assert!(!p.test(&Record::new("your-prefix-foo", None, Value::Null)));
    let e = try_predicate("TopicNameMatches", &[("pattern", "[")])
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("Invalid value [ for configuration pattern: Invalid regex: "),
        "{e}"
    );
    let e = try_predicate("TopicNameMatches", &[("pattern", "")])
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        e,
        "Invalid value  for configuration pattern: String must be non-empty"
    );

    let p = try_predicate("HasHeaderKey", &[("name", "foo")]).unwrap();
    let mut r = Record::new("t", None, Value::Null);
    assert!(!p.test(&r));
    r.headers.add_string("foo", "x");
    assert!(p.test(&r));

    let p = try_predicate("RecordIsTombstone", &[]).unwrap();
    assert!(p.test(&Record::new("t", None, Value::Null)));
    assert!(!p.test(&Record::new("t", None, s("x"))));
}
