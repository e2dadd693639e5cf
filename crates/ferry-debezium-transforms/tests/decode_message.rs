//! DecodeLogicalDecodingMessageContent alone and in front of EventRouter (the table-less
//! outbox), on message events shaped as the PostgreSQL connector emits them.

mod support;

use ferry_core::{Record, Schema, SchemaType, Transformation, Value};
use ferry_debezium_transforms::{DecodeLogicalDecodingMessageContent, EventRouter};
use support::*;

const ID: &str = "6b0a0e52-8c1e-4c5f-9d3e-2a6d1d6f3a11";

fn decoder(pairs: &[(&str, &str)]) -> DecodeLogicalDecodingMessageContent {
    let mut d = DecodeLogicalDecodingMessageContent::new();
    d.configure(&config(pairs)).unwrap();
    d
}

fn outbox_json() -> String {
    format!(
        r#"{{"id":"{ID}","aggregatetype":"Order","aggregateid":"42","type":"OrderCreated","payload":{{"orderId":42,"total":9.5,"items":["x"],"note":null}}}}"#
    )
}

#[test]
fn a_message_becomes_a_create_event_with_the_content_as_after() {
    let rec = with_context_headers(message_event("outbox", outbox_json().as_bytes()));
    let out = decoder(&[]).apply(rec).unwrap().unwrap();
    assert_eq!(&*out.topic, "dbserver1.message");
    assert_eq!(out.key, Value::Null);
    assert_eq!(out.key_schema, None);
    assert_eq!(out.timestamp, Some(TS_MS + 5));
    assert_eq!(header_keys(&out), CONTEXT_HEADERS.to_vec());

    let schema = out.value_schema.clone().unwrap();
    assert_eq!(
        schema.name(),
        Some("io.debezium.connector.postgresql.MessageValue.Envelope")
    );
    assert_eq!(schema.version(), None);
    assert!(!schema.is_optional());
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["op", "ts_ms", "source", "transaction", "after"]);

    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("op"), Some(&s("c")));
    assert_eq!(v.get("ts_ms"), Some(&Value::Int64(TS_MS)));
    let after = v.get("after").unwrap().as_struct().unwrap();
    let after_schema = after.schema();
    assert_eq!(after_schema.name(), None);
    assert!(after_schema.is_optional());
    let fields: Vec<&str> = after_schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(fields, ["id", "aggregatetype", "aggregateid", "type", "payload"]);
    assert_eq!(after.get("aggregateid"), Some(&s("42")));
    let payload = after.get("payload").unwrap().as_struct().unwrap();
    assert_eq!(payload.schema().name(), Some("payload"));
    assert_eq!(payload.get("orderId"), Some(&Value::Int32(42)));
    assert_eq!(payload.get("total"), Some(&Value::Float64(9.5)));
    // Nulls are left out unless fields.null.include is set.
    assert!(payload.schema().field("note").is_none());
}

#[test]
fn fields_null_include_keeps_nulls_as_optional_bytes() {
    let rec = message_event("outbox", outbox_json().as_bytes());
    let out = decoder(&[("fields.null.include", "true")])
        .apply(rec)
        .unwrap()
        .unwrap();
    let after = out
        .value
        .as_struct()
        .unwrap()
        .get("after")
        .unwrap()
        .as_struct()
        .unwrap();
    let payload = after.get("payload").unwrap().as_struct().unwrap();
    let note = payload.schema().field("note").unwrap();
    assert_eq!(note.schema().schema_type(), SchemaType::Bytes);
    assert!(note.schema().is_optional());
    assert_eq!(payload.get("note"), Some(&Value::Null));
}

#[test]
fn other_records_pass_unchanged() {
    let t = Table::new("customers", vec![("id", Schema::int32())]);
    let rec = t.event("c", None, Some(t.row(vec![Value::Int32(1)])));
    let out = decoder(&[]).apply(rec.clone()).unwrap().unwrap();
    assert_eq!(out, rec);
    let tomb = t.tombstone(Value::Int32(1));
    assert_eq!(decoder(&[]).apply(tomb.clone()).unwrap().unwrap(), tomb);
}

#[test]
fn content_that_is_not_a_json_object_fails_the_record() {
    let mut d = decoder(&[]);
    let err = d.apply(message_event("outbox", b"plain text")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unable to parse logical decoding message content JSON string 'plain text'"
    );
    assert!(d.apply(message_event("outbox", b"{\"a\":")).is_err());
    assert!(d.apply(message_event("outbox", b"[1,2]")).is_err());
}

fn chain(record: Record, router: &mut EventRouter) -> Record {
    let decoded = decoder(&[]).apply(record).unwrap().unwrap();
    router.apply(decoded).unwrap().unwrap()
}

fn router(pairs: &[(&str, &str)]) -> EventRouter {
    let mut r = EventRouter::new();
    r.configure(&config(pairs)).unwrap();
    r
}

#[test]
fn the_table_less_outbox_routes_like_an_outbox_row() {
    // EventRouter's defaults read id, aggregatetype, aggregateid, type and payload.
    let mut r = router(&[("table.expand.json.payload", "true")]);
    let from_message = chain(message_event("outbox", outbox_json().as_bytes()), &mut r);

    // The same event as a row of an outbox table with those columns (payload jsonb).
    let t = Table::new(
        "outbox",
        vec![
            ("id", Schema::optional_string()),
            ("aggregatetype", Schema::optional_string()),
            ("aggregateid", Schema::optional_string()),
            ("type", Schema::optional_string()),
            ("payload", json()),
        ],
    );
    let row = t.row(vec![
        s(ID),
        s("Order"),
        s("42"),
        s("OrderCreated"),
        s(r#"{"orderId": 42, "total": 9.5, "items": ["x"], "note": null}"#),
    ]);
    let mut r = router(&[("table.expand.json.payload", "true")]);
    let from_row = r.apply(t.event("c", None, Some(row))).unwrap().unwrap();

    assert_eq!(&*from_message.topic, "outbox.event.Order");
    assert_eq!(from_message.topic, from_row.topic);
    assert_eq!(from_message.key, s("42"));
    assert_eq!(from_message.key, from_row.key);
    assert_eq!(from_message.key_schema, from_row.key_schema);
    assert_eq!(from_message.value, from_row.value);
    assert_eq!(from_message.value_schema, from_row.value_schema);
    assert_eq!(from_message.headers, from_row.headers);
    assert_eq!(from_message.headers.last_with_name("id").unwrap().value, s(ID));
}
