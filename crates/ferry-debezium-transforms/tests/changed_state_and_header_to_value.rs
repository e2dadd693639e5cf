//! ExtractChangedRecordState and HeaderToValue, alone and chained (Debezium's documented
//! use: the changed-field headers copied into the envelope).

mod support;

use ferry_core::{Schema, SchemaType, Struct, Transformation, Value};
use ferry_debezium_transforms::{ExtractChangedRecordState, HeaderToValue};
use support::*;

fn customers() -> Table {
    Table::new(
        "customers",
        vec![
            ("id", Schema::int32()),
            ("name", Schema::optional_string()),
            ("email", Schema::optional_string()),
            ("raw", Schema::optional_bytes()),
        ],
    )
}

fn row(t: &Table, name: &str, email: Value) -> Struct {
    t.row(vec![
        Value::Int32(1),
        s(name),
        email,
        Value::Bytes(vec![1u8, 2].into()),
    ])
}

fn changed(pairs: &[(&str, &str)]) -> ExtractChangedRecordState {
    let mut x = ExtractChangedRecordState::new();
    x.configure(&config(pairs)).unwrap();
    x
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::Array(items) => items.iter().map(|i| i.as_str().unwrap()).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn updates_list_changed_and_unchanged_fields() {
    let t = customers();
    let mut x = changed(&[
        ("header.changed.name", "Changed"),
        ("header.unchanged.name", "Unchanged"),
    ]);
    let before = row(&t, "Sally", s("s@example.com"));
    let after = row(&t, "Sal", s("s@example.com"));
    let out = x.apply(t.event("u", Some(before), Some(after))).unwrap().unwrap();
    assert_eq!(header_keys(&out), ["Changed", "Unchanged"]);
    let h = out.headers.last_with_name("Changed").unwrap();
    assert_eq!(strings(&h.value), ["name"]);
    let schema = h.schema.clone().unwrap();
    assert_eq!(schema.schema_type(), SchemaType::Array);
    assert_eq!(schema.name(), Some("Changed"));
    assert!(schema.is_optional());
    assert_eq!(schema.value_schema(), Some(&Schema::optional_string()));
    let h = out.headers.last_with_name("Unchanged").unwrap();
    // Bytes compare by content, as ByteBuffer.equals does.
    assert_eq!(strings(&h.value), ["id", "email", "raw"]);
}

#[test]
fn other_events_get_empty_lists_and_non_envelopes_nothing() {
    let t = customers();
    let mut x = changed(&[("header.changed.name", "Changed")]);
    let out = x
        .apply(t.event("c", None, Some(row(&t, "a", Value::Null))))
        .unwrap()
        .unwrap();
    assert_eq!(header_keys(&out), ["Changed"]);
    assert!(strings(&out.headers.last_with_name("Changed").unwrap().value).is_empty());
    let tomb = t.tombstone(Value::Int32(1));
    assert_eq!(x.apply(tomb.clone()).unwrap().unwrap(), tomb);
    // A delete's tombstone shares its headers in Debezium: it gets the delete's empty lists.
    let delete = x
        .apply(t.event("d", Some(row(&t, "a", Value::Null)), None))
        .unwrap()
        .unwrap();
    assert_eq!(header_keys(&delete), ["Changed"]);
    let out = x.apply(tomb.clone()).unwrap().unwrap();
    assert_eq!(header_keys(&out), ["Changed"]);
    assert!(strings(&out.headers.last_with_name("Changed").unwrap().value).is_empty());
    // Only the tombstone right after its delete.
    assert_eq!(x.apply(tomb.clone()).unwrap().unwrap(), tomb);
    // Unset names add no header.
    let out = changed(&[])
        .apply(t.event(
            "u",
            Some(row(&t, "a", Value::Null)),
            Some(row(&t, "b", Value::Null)),
        ))
        .unwrap()
        .unwrap();
    assert!(out.headers.is_empty());
}

fn to_value(pairs: &[(&str, &str)]) -> HeaderToValue {
    let mut x = HeaderToValue::new();
    x.configure(&config(pairs)).unwrap();
    x
}

#[test]
fn header_to_value_checks_its_settings() {
    let err = |pairs: &[(&str, &str)]| {
        HeaderToValue::new()
            .configure(&config(pairs))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[("fields", "a"), ("operation", "copy")]).contains("A value is required"));
    assert!(err(&[("headers", "a,b"), ("fields", "a"), ("operation", "copy")])
        .contains("'fields' config must have the same number of elements as 'headers' config."));
    assert!(err(&[("headers", "a"), ("fields", "a"), ("operation", "swap")])
        .contains("Value must be one of move,copy"));
    assert!(err(&[("headers", "a b"), ("fields", "a"), ("operation", "copy")])
        .contains("Element(s) containing space not permitted"));
}

#[test]
fn copy_and_move_headers_into_the_envelope_and_nested_structs() {
    let t = customers();
    let mut rec = with_context_headers(t.event("c", None, Some(row(&t, "a", Value::Null))));
    rec.headers.add_string("h1", "one");
    rec.headers.add("h2", Some(Schema::int64()), Value::Int64(7));
    let cfg = [
        ("headers", "h1,h2,__debezium.context.connectorName"),
        ("fields", "f1,source.h2,meta.connector"),
    ];
    let mut pairs = cfg.to_vec();
    pairs.push(("operation", "copy"));
    let out = to_value(&pairs).apply(rec.clone()).unwrap().unwrap();
    assert_eq!(out.headers, rec.headers);
    let schema = out.value_schema.clone().unwrap();
    assert_eq!(schema.name(), t.envelope.name());
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "before",
            "after",
            "source",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns",
            "transaction",
            "f1",
            "meta"
        ]
    );
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("f1"), Some(&s("one")));
    let source = v.get("source").unwrap().as_struct().unwrap();
    assert_eq!(source.get("h2"), Some(&Value::Int64(7)));
    assert_eq!(source.get("db"), Some(&s("inventory")));
    let meta = v.get("meta").unwrap().as_struct().unwrap();
    assert!(meta.schema().is_optional());
    assert_eq!(meta.get("connector"), Some(&s("postgresql")));

    let mut pairs = cfg.to_vec();
    pairs.push(("operation", "move"));
    let out = to_value(&pairs).apply(rec).unwrap().unwrap();
    assert_eq!(
        header_keys(&out),
        [
            "__debezium.context.connectorLogicalName",
            "__debezium.context.taskId",
            "__debezium.context.runId"
        ]
    );
}

#[test]
fn records_without_the_headers_or_value_pass_unchanged() {
    let t = customers();
    let mut x = to_value(&[("headers", "h"), ("fields", "f"), ("operation", "move")]);
    let rec = t.event("c", None, Some(row(&t, "a", Value::Null)));
    assert_eq!(x.apply(rec.clone()).unwrap().unwrap(), rec);
    let tomb = t.tombstone(Value::Int32(1));
    assert_eq!(x.apply(tomb.clone()).unwrap().unwrap(), tomb);
}

#[test]
fn changed_fields_chain_into_the_value() {
    let t = customers();
    let mut x = changed(&[("header.changed.name", "Changed")]);
    let mut h = to_value(&[
        ("headers", "Changed"),
        ("fields", "changed"),
        ("operation", "move"),
    ]);
    let rec = t.event(
        "u",
        Some(row(&t, "a", s("x@example.com"))),
        Some(row(&t, "b", Value::Null)),
    );
    let out = h.apply(x.apply(rec).unwrap().unwrap()).unwrap().unwrap();
    assert!(out.headers.is_empty());
    let v = out.value.as_struct().unwrap();
    assert_eq!(strings(v.get("changed").unwrap()), ["name", "email"]);
    let f = out.value_schema.as_ref().unwrap().field("changed").unwrap();
    assert_eq!(f.schema().name(), Some("Changed"));
}
