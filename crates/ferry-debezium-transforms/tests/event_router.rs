mod support;

use ferry_core::{ErrorKind, Record, Schema, SchemaType, Struct, Transformation, Value};
use ferry_debezium_transforms::EventRouter;
use support::*;

const ID: &str = "6b0a0e52-8c1e-4c5f-9d3e-2a6d1d6f3a11";

fn router(pairs: &[(&str, &str)]) -> EventRouter {
    let mut r = EventRouter::new();
    r.configure(&config(pairs)).unwrap();
    r
}

/// The seed table: id uuid, aggregate_type, aggregate_id, event_type, payload jsonb, created_at timestamptz.
fn seed_table() -> Table {
    Table::new(
        "outbox",
        vec![
            ("id", uuid()),
            ("aggregate_type", Schema::string()),
            ("aggregate_id", Schema::string()),
            ("event_type", Schema::string()),
            ("payload", json()),
            ("created_at", zoned_timestamp()),
        ],
    )
}

fn seed_row(t: &Table, payload: Value) -> Struct {
    t.row(vec![
        s(ID),
        s("Order"),
        s("42"),
        s("OrderCreated"),
        payload,
        s("2024-03-10T01:02:03.123456Z"),
    ])
}

fn seed_router() -> EventRouter {
    router(&[
        ("route.by.field", "aggregate_type"),
        ("route.topic.replacement", "${routedByValue}_events"),
        ("table.field.event.key", "aggregate_id"),
        ("table.field.event.payload", "payload"),
    ])
}

fn apply(r: &mut EventRouter, rec: Record) -> Record {
    r.apply(rec).unwrap().expect("a record")
}

#[test]
fn seed_configuration_routes_the_payload() {
    let t = seed_table();
    let payload = r#"{"orderId":42,"total":"9.99"}"#;
    let out = apply(
        &mut seed_router(),
        t.event("c", None, Some(seed_row(&t, s(payload)))),
    );
    assert_eq!(&*out.topic, "Order_events");
    assert_eq!(out.key, s("42"));
    assert_eq!(out.key_schema, Some(Schema::string()));
    assert_eq!(out.value, s(payload));
    assert_eq!(out.value_schema, Some(json()));
    assert_eq!(out.timestamp, Some(TS_MS));
    assert_eq!(out.kafka_partition, None);
    assert_eq!(out.headers.len(), 1);
    let id = out.headers.last_with_name("id").unwrap();
    assert_eq!(id.value, s(ID));
    assert_eq!(id.schema, Some(uuid()));
}

#[test]
fn snapshot_reads_are_routed_like_inserts() {
    let t = seed_table();
    let out = apply(
        &mut seed_router(),
        t.event("r", None, Some(seed_row(&t, s("{}")))),
    );
    assert_eq!(&*out.topic, "Order_events");
}

/// Debezium's documented layout and example connector configuration.
fn example_table() -> Table {
    Table::new(
        "outboxevent",
        vec![
            ("id", uuid()),
            ("aggregatetype", Schema::string()),
            ("aggregateid", Schema::string()),
            ("type", Schema::string()),
            ("payload", json()),
            ("timestamp", micro_timestamp()),
        ],
    )
}

fn example_row(t: &Table, ts: Value) -> Struct {
    t.row(vec![
        s(ID),
        s("Customer"),
        s("1001"),
        s("CustomerCreated"),
        s(r#"{"id":1001,"name":"Sally"}"#),
        ts,
    ])
}

#[test]
fn documented_example_uses_timestamp_column_and_header_placement() {
    let t = example_table();
    let mut r = router(&[
        ("route.topic.replacement", "${routedByValue}.events"),
        ("table.field.event.timestamp", "timestamp"),
        ("table.fields.additional.placement", "type:header:eventType"),
    ]);
    let out = apply(
        &mut r,
        t.event(
            "c",
            None,
            Some(example_row(&t, Value::Int64(1_710_032_523_000_123))),
        ),
    );
    assert_eq!(&*out.topic, "Customer.events");
    assert_eq!(out.key, s("1001"));
    assert_eq!(out.timestamp, Some(1_710_032_523_000));
    let keys: Vec<_> = out.headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["id", "eventType"]);
    let event_type = out.headers.last_with_name("eventType").unwrap();
    assert_eq!(event_type.value, s("CustomerCreated"));
    assert_eq!(event_type.schema, Some(Schema::string()));
    assert_eq!(out.value_schema, Some(json()));

    // A null timestamp column falls back to the envelope's ts_ms.
    let out = apply(&mut r, t.event("c", None, Some(example_row(&t, Value::Null))));
    assert_eq!(out.timestamp, Some(TS_MS));
}

#[test]
fn default_topic_and_existing_headers_are_kept() {
    let t = example_table();
    let mut rec = t.event("c", None, Some(example_row(&t, Value::Null)));
    rec.headers.add_string("trace", "abc");
    let out = apply(&mut router(&[]), rec);
    assert_eq!(&*out.topic, "outbox.event.Customer");
    let keys: Vec<_> = out.headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["trace", "id"]);
}

#[test]
fn numbered_groups_in_the_replacement() {
    let t = example_table();
    let mut r = router(&[
        ("route.topic.regex", "(Cust)(omer)"),
        ("route.topic.replacement", "$2-$1"),
    ]);
    let out = apply(&mut r, t.event("c", None, Some(example_row(&t, Value::Null))));
    assert_eq!(&*out.topic, "omer-Cust");
    // No whole match: the routing value itself is the topic.
    let mut r = router(&[("route.topic.regex", "Order"), ("route.topic.replacement", "x")]);
    let out = apply(&mut r, t.event("c", None, Some(example_row(&t, Value::Null))));
    assert_eq!(&*out.topic, "Customer");
}

#[test]
fn nano_and_unsupported_timestamp_columns() {
    let nano = named(SchemaType::Int64, "io.debezium.time.NanoTimestamp", true);
    let t = Table::new(
        "o",
        vec![
            ("id", uuid()),
            ("aggregatetype", Schema::string()),
            ("aggregateid", Schema::string()),
            ("payload", json()),
            ("ts", nano),
            ("created_at", zoned_timestamp()),
        ],
    );
    let row = t.row(vec![
        s(ID),
        s("A"),
        s("1"),
        s("{}"),
        Value::Int64(1_710_032_523_123_456_789),
        s("x"),
    ]);
    let out = apply(
        &mut router(&[("table.field.event.timestamp", "ts")]),
        t.event("c", None, Some(row.clone())),
    );
    assert_eq!(out.timestamp, Some(1_710_032_523_123));

    let err = router(&[("table.field.event.timestamp", "created_at")])
        .apply(t.event("c", None, Some(row.clone())))
        .unwrap_err();
    assert_eq!(err.message(), "Field 'created_at' is not of type INT64");
    let err = router(&[("table.field.event.timestamp", "nope")])
        .apply(t.event("c", None, Some(row)))
        .unwrap_err();
    assert_eq!(err.message(), "Unable to find timestamp field nope in event");
}

#[test]
fn updates_deletes_and_tombstones_are_dropped() {
    let t = seed_table();
    let row = seed_row(&t, s("{}"));
    let mut r = seed_router();
    assert!(r
        .apply(t.event("u", Some(row.clone()), Some(row.clone())))
        .unwrap()
        .is_none());
    assert!(r.apply(t.event("d", Some(row.clone()), None)).unwrap().is_none());
    assert!(r.apply(t.tombstone(s(ID))).unwrap().is_none());

    let mut fatal = router(&[("table.op.invalid.behavior", "fatal")]);
    let err = fatal
        .apply(t.event("u", Some(row.clone()), Some(row.clone())))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Fatal);
    assert!(
        err.message().starts_with("Unexpected update message received"),
        "{err}"
    );

    // The removed option name still works.
    let mut legacy = router(&[("debezium.op.invalid.behavior", "fatal")]);
    assert!(legacy.apply(t.event("u", Some(row.clone()), Some(row))).is_err());
}

#[test]
fn records_that_are_not_change_events_pass_unchanged() {
    let mut r = seed_router();
    let heartbeat_schema = Schema::struct_builder()
        .name("io.debezium.connector.common.Heartbeat")
        .field("ts_ms", Schema::int64())
        .build();
    let mut hb = Struct::new(heartbeat_schema.clone());
    hb.put("ts_ms", Value::Int64(1)).unwrap();
    let rec = Record::new(
        "__debezium-heartbeat.dbserver1",
        Some(heartbeat_schema),
        Value::Struct(hb),
    );
    assert_eq!(r.apply(rec.clone()).unwrap(), Some(rec));

    let unnamed = Record::new("t", Some(Schema::string()), s("x"));
    assert_eq!(r.apply(unnamed.clone()).unwrap(), Some(unnamed));

    // Schemaless envelopes (JsonConverter with schemas.enable=false upstream) are not recognised.
    let schemaless = Record::new("t", None, Value::Map(vec![(s("op"), s("c"))]));
    assert_eq!(r.apply(schemaless.clone()).unwrap(), Some(schemaless));
}

#[test]
fn envelope_placement_wraps_the_payload() {
    let t = example_table();
    let mut r = router(&[(
        "table.fields.additional.placement",
        "type:envelope:eventType, aggregateid:envelope, type:header:eventType",
    )]);
    let out = apply(&mut r, t.event("c", None, Some(example_row(&t, Value::Null))));
    let schema = out.value_schema.clone().unwrap();
    assert_eq!(schema.name(), Some("dbserver1.public.outboxevent.Customer.Value"));
    assert!(!schema.is_optional());
    let names: Vec<_> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["payload", "eventType", "aggregateid"]);
    assert_eq!(schema.field("payload").unwrap().schema(), &json());
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("payload"), Some(&s(r#"{"id":1001,"name":"Sally"}"#)));
    assert_eq!(v.get("eventType"), Some(&s("CustomerCreated")));
    assert_eq!(v.get("aggregateid"), Some(&s("1001")));
    assert_eq!(
        out.headers.last_with_name("eventType").unwrap().value,
        s("CustomerCreated")
    );
}

#[test]
fn schema_version_column_versions_the_value_schema() {
    let t = Table::new(
        "outboxevent",
        vec![
            ("id", uuid()),
            ("aggregatetype", Schema::string()),
            ("aggregateid", Schema::string()),
            ("type", Schema::string()),
            ("payload", json()),
            ("version", Schema::int32()),
        ],
    );
    let row = |v: i32| {
        t.row(vec![
            s(ID),
            s("User"),
            s("1"),
            s("UserCreated"),
            s("{}"),
            Value::Int32(v),
        ])
    };
    let mut r = router(&[
        ("table.field.event.schema.version", "version"),
        ("table.fields.additional.placement", "type:envelope:eventType"),
    ]);
    let v1 = apply(&mut r, t.event("c", None, Some(row(1))));
    let v3 = apply(&mut r, t.event("c", None, Some(row(3))));
    assert_eq!(v1.value_schema.as_ref().unwrap().version(), Some(1));
    assert_eq!(v3.value_schema.as_ref().unwrap().version(), Some(3));

    // Without an envelope placement the payload schema is used as is.
    let mut plain = router(&[("table.field.event.schema.version", "version")]);
    let out = apply(&mut plain, t.event("c", None, Some(row(2))));
    assert_eq!(out.value_schema, Some(json()));
}

#[test]
fn partition_placement_sets_the_kafka_partition() {
    let t = Table::new(
        "o",
        vec![
            ("event_id", Schema::int32()),
            ("payload_id", Schema::int32()),
            ("my_route_field", Schema::string()),
            ("payload_body", Schema::bytes()),
            ("p", Schema::int32()),
        ],
    );
    let row = t.row(vec![
        Value::Int32(2),
        Value::Int32(1232),
        s("routename"),
        Value::Bytes(ferry_core::bytes::Bytes::from_static(b"{}")),
        Value::Int32(123),
    ]);
    let mut r = router(&[
        ("table.field.event.id", "event_id"),
        ("table.field.event.key", "payload_id"),
        ("table.field.event.payload", "payload_body"),
        ("route.by.field", "my_route_field"),
        ("table.fields.additional.placement", "p:partition"),
    ]);
    let out = apply(&mut r, t.event("c", None, Some(row)));
    assert_eq!(out.kafka_partition, Some(123));
    assert_eq!(out.key, Value::Int32(1232));
    assert_eq!(out.key_schema, Some(Schema::int32()));
    assert_eq!(out.headers.last_with_name("id").unwrap().value, Value::Int32(2));
    assert_eq!(out.value_schema, Some(Schema::bytes()));
    assert_eq!(&*out.topic, "outbox.event.routename");
}

#[test]
fn empty_payload_becomes_a_tombstone_only_when_asked() {
    let t = seed_table();
    let mut r = router(&[
        ("route.by.field", "aggregate_type"),
        ("table.field.event.key", "aggregate_id"),
        ("route.tombstone.on.empty.payload", "true"),
    ]);
    let out = apply(&mut r, t.event("c", None, Some(seed_row(&t, Value::Null))));
    assert_eq!(out.value, Value::Null);
    assert_eq!(out.value_schema, None);
    assert_eq!(out.key, s("42"));
    let out = apply(&mut r, t.event("c", None, Some(seed_row(&t, s("  ")))));
    assert_eq!(out.value_schema, None);

    let out = apply(
        &mut seed_router(),
        t.event("c", None, Some(seed_row(&t, Value::Null))),
    );
    assert_eq!(out.value, Value::Null);
    assert_eq!(out.value_schema, Some(json()));
}

#[test]
fn expands_json_payload_into_structs() {
    let t = seed_table();
    let mut r = router(&[
        ("route.by.field", "aggregate_type"),
        ("table.field.event.key", "aggregate_id"),
        ("table.expand.json.payload", "true"),
    ]);
    let payload = r#"{"orderId":42,"customer":{"name":"Sally","vip":true},"lines":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1,"note":"gift"}],"tags":["x","y"],"total":9.99,"empty":[],"missing":null}"#;
    let out = apply(&mut r, t.event("c", None, Some(seed_row(&t, s(payload)))));
    let line = Schema::struct_builder()
        .name("payload.lines")
        .field("sku", Schema::optional_string())
        .field("qty", Schema::optional_int32())
        .field("note", Schema::optional_string())
        .build();
    let expected = Schema::struct_builder()
        .name("payload")
        .optional()
        .field("orderId", Schema::optional_int32())
        .field(
            "customer",
            Schema::struct_builder()
                .name("payload.customer")
                .optional()
                .field("name", Schema::optional_string())
                .field("vip", Schema::optional_boolean())
                .build(),
        )
        .field("lines", Schema::array(line.clone()).optional().build())
        .field(
            "tags",
            Schema::array(Schema::optional_string()).optional().build(),
        )
        .field("total", Schema::optional_float64())
        .build();
    assert_eq!(out.value_schema, Some(expected));
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("orderId"), Some(&Value::Int32(42)));
    assert_eq!(v.get("total"), Some(&Value::Float64(9.99)));
    assert_eq!(v.get("tags"), Some(&Value::Array(vec![s("x"), s("y")])));
    let customer = v.get("customer").unwrap().as_struct().unwrap();
    assert_eq!(customer.get("vip"), Some(&Value::Boolean(true)));
    let Some(Value::Array(lines)) = v.get("lines") else {
        panic!("lines")
    };
    let first = lines[0].as_struct().unwrap();
    assert_eq!(first.schema(), &line);
    assert_eq!(first.get("note"), Some(&Value::Null));
    assert_eq!(lines[1].as_struct().unwrap().get("note"), Some(&s("gift")));
}

#[test]
fn unparseable_json_is_kept_as_the_original_string() {
    let t = seed_table();
    let mut r = router(&[
        ("route.by.field", "aggregate_type"),
        ("table.field.event.key", "aggregate_id"),
        ("table.expand.json.payload", "true"),
    ]);
    for text in ["not json", "{broken", r#"{"a":[1,2.5]}"#] {
        let out = apply(&mut r, t.event("c", None, Some(seed_row(&t, s(text)))));
        assert_eq!(out.value, s(text));
        assert_eq!(out.value_schema, Some(json()));
    }
    // Null payloads are left alone.
    let out = apply(&mut r, t.event("c", None, Some(seed_row(&t, Value::Null))));
    assert_eq!(out.value, Value::Null);
}

#[test]
fn expanded_payload_inside_envelope_and_legacy_option() {
    let t = example_table();
    let mut r = router(&[
        ("debezium.expand.json.payload", "true"),
        ("table.fields.additional.placement", "type:envelope:type"),
    ]);
    let out = apply(&mut r, t.event("c", None, Some(example_row(&t, Value::Null))));
    let schema = out.value_schema.unwrap();
    assert_eq!(schema.name(), Some("dbserver1.public.outboxevent.Customer.Value"));
    let payload_schema = schema.field("payload").unwrap().schema();
    assert_eq!(payload_schema.name(), Some("payload"));
    let v = out.value.as_struct().unwrap();
    let p = v.get("payload").unwrap().as_struct().unwrap();
    assert_eq!(p.get("id"), Some(&Value::Int32(1001)));
    assert_eq!(p.get("name"), Some(&s("Sally")));
    assert_eq!(v.get("type"), Some(&s("CustomerCreated")));
}

#[test]
fn missing_additional_columns() {
    let t = example_table();
    let row = example_row(&t, Value::Null);
    let err = router(&[("table.fields.additional.placement", "nope:header")])
        .apply(t.event("c", None, Some(row.clone())))
        .unwrap_err();
    assert_eq!(err.message(), "nope is not a valid field name");
    let err = router(&[("table.fields.additional.placement", "nope:envelope")])
        .apply(t.event("c", None, Some(row.clone())))
        .unwrap_err();
    assert_eq!(err.message(), "Unable to find field nope in event");

    for cfg in [
        ("table.field.additional.missing", "ignore"),
        ("table.fields.additional.error.on.missing", "false"),
    ] {
        let mut r = router(&[
            ("table.fields.additional.placement", "nope:envelope,type:header"),
            cfg,
        ]);
        let out = apply(&mut r, t.event("c", None, Some(row.clone())));
        let names: Vec<_> = out
            .value_schema
            .as_ref()
            .unwrap()
            .fields()
            .iter()
            .map(|f| f.name())
            .collect();
        assert_eq!(names, ["payload"]);
        assert_eq!(
            out.headers.last_with_name("type").unwrap().value,
            s("CustomerCreated")
        );
    }
}

#[test]
fn missing_key_or_payload_columns_fail() {
    let t = example_table();
    let row = example_row(&t, Value::Null);
    let err = router(&[("table.field.event.key", "fakefield")])
        .apply(t.event("c", None, Some(row.clone())))
        .unwrap_err();
    assert_eq!(err.message(), "fakefield is not a valid field name");
    assert_eq!(err.kind(), ErrorKind::Data);
    let err = router(&[("table.field.event.payload", "body")])
        .apply(t.event("c", None, Some(row)))
        .unwrap_err();
    assert_eq!(err.message(), "Unable to find payload field body in event");
}

#[test]
fn configuration_is_validated() {
    let mut r = EventRouter::new();
    let err = r
        .configure(&config(&[("table.op.invalid.behavior", "invalidOption")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value invalidOption for configuration table.op.invalid.behavior: Value must be one of warn, error, fatal"
    );
    for bad in ["type", ""] {
        let err = r
            .configure(&config(&[("table.fields.additional.placement", bad)]))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("A comma-separated list of valid String pairs or trios is expected"),
            "{err}"
        );
    }
    let err = r
        .configure(&config(&[("route.topic.regex", " [[a-z]")]))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Invalid value [[a-z] for configuration route.topic.regex"),
        "{err}"
    );
    assert!(r
        .configure(&config(&[
            ("tracing.span.context.field", "ctx"),
            ("table.op.invalid.behavior", "ERROR")
        ]))
        .is_ok());

    let def = r.config_def();
    let names: Vec<_> = def.keys().map(|k| k.name.as_str()).collect();
    assert!(names.contains(&"table.json.payload.null.behavior"));
    assert!(names.contains(&"tracing.with.context.field.only"));
    assert_eq!(
        def.key("route.topic.replacement")
            .unwrap()
            .default_display()
            .as_deref(),
        Some("outbox.event.${routedByValue}")
    );
}

/// Debezium's EventRouter adds to the incoming record's headers: the connector's context
/// headers come first, then `id`, then the header placements (an incoming header of the
/// same name stays, as `Headers.add` appends).
#[test]
fn context_headers_come_first_then_id_and_header_placements() {
    let t = example_table();
    let mut r = router(&[("table.fields.additional.placement", "type:header:eventType")]);
    let mut rec = with_context_headers(t.event("c", None, Some(example_row(&t, Value::Null))));
    rec.headers.add_string("id", "upstream");
    let out = apply(&mut r, rec);
    let mut expected: Vec<&str> = CONTEXT_HEADERS.to_vec();
    expected.extend(["id", "id", "eventType"]);
    assert_eq!(header_keys(&out), expected);
    assert_eq!(
        out.headers.iter().nth(3).unwrap().value,
        s("019a0000-0000-7000-8000-000000000000")
    );
    let ids: Vec<_> = out.headers.all_with_name("id").map(|h| h.value.clone()).collect();
    assert_eq!(ids, [s("upstream"), s(ID)]);
}
