mod support;

use ferry_core::{Record, Schema, SchemaType, Struct, Transformation, Value};
use ferry_debezium_transforms::ExtractNewRecordState;
use support::*;

fn unwrap(pairs: &[(&str, &str)]) -> ExtractNewRecordState {
    let mut t = ExtractNewRecordState::new();
    t.configure(&config(pairs)).unwrap();
    t
}

fn customers() -> Table {
    Table::new(
        "customers",
        vec![
            ("id", Schema::int32()),
            ("name", Schema::optional_string()),
            (
                "status",
                Schema::builder(SchemaType::String)
                    .optional()
                    .default_value(Value::from("active"))
                    .build(),
            ),
        ],
    )
}

fn row(t: &Table, id: i32, name: &str, status: Value) -> Struct {
    t.row(vec![Value::Int32(id), s(name), status])
}

fn apply(t: &mut ExtractNewRecordState, r: Record) -> Option<Record> {
    t.apply(r).unwrap()
}

/// The row schema as the transform emits it: same name and fields, required.
fn flat_schema(t: &Table, extra: &[(&str, Schema)]) -> Schema {
    let mut b = Schema::struct_builder().name(t.row.name().unwrap());
    for f in t.row.fields() {
        b = b.field(f.name(), f.schema().clone());
    }
    for (n, s) in extra {
        b = b.field(*n, s.clone());
    }
    b.build()
}

#[test]
fn create_and_update_become_the_new_row() {
    let t = customers();
    let mut x = unwrap(&[]);
    let after = row(&t, 1, "Sally", s("gold"));
    let out = apply(&mut x, t.event("c", None, Some(after.clone()))).unwrap();
    assert_eq!(&*out.topic, "dbserver1.public.customers");
    assert_eq!(out.value_schema, Some(flat_schema(&t, &[])));
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.values(), after.values());
    assert_eq!(out.key_schema, Some(t.key.clone()));
    assert_eq!(out.timestamp, Some(TS_MS + 5));

    let out = apply(
        &mut x,
        t.event("u", Some(after), Some(row(&t, 1, "Sal", Value::Null))),
    )
    .unwrap();
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("name"), Some(&s("Sal")));
    // Without rewrite, nulls are not replaced by defaults.
    assert_eq!(v.get("status"), Some(&Value::Null));
}

#[test]
fn default_mode_turns_deletes_into_tombstones_and_drops_tombstones() {
    let t = customers();
    let mut x = unwrap(&[]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "Sally", Value::Null)), None)).unwrap();
    assert_eq!(out.value, Value::Null);
    assert_eq!(out.value_schema, Some(t.row.clone()));
    assert_eq!(out.key_schema, Some(t.key.clone()));
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_none());
}

#[test]
fn truncates_are_dropped() {
    let t = customers();
    assert!(apply(&mut unwrap(&[]), t.event("t", None, None)).is_none());
}

#[test]
fn drop_mode() {
    let t = customers();
    let mut x = unwrap(&[("delete.tombstone.handling.mode", "drop")]);
    assert!(apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).is_none());
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_none());
    assert!(apply(&mut x, t.event("c", None, Some(row(&t, 1, "a", Value::Null)))).is_some());
}

#[test]
fn delete_to_tombstone_mode() {
    let t = customers();
    let mut x = unwrap(&[("delete.tombstone.handling.mode", "delete-to-tombstone")]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).unwrap();
    assert_eq!(out.value, Value::Null);
    assert_eq!(out.value_schema, None);
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_none());
}

#[test]
fn rewrite_mode_adds_deleted_flag() {
    let t = customers();
    let mut x = unwrap(&[("delete.tombstone.handling.mode", "rewrite")]);
    let expected = flat_schema(&t, &[("__deleted", Schema::optional_string())]);

    let out = apply(&mut x, t.event("c", None, Some(row(&t, 1, "Sally", Value::Null)))).unwrap();
    assert_eq!(out.value_schema, Some(expected.clone()));
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("__deleted"), Some(&s("false")));
    // replace.null.with.default=true (default) fills defaults while inserting the flag.
    assert_eq!(v.get("status"), Some(&s("active")));

    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "Sally", s("gold"))), None)).unwrap();
    assert_eq!(out.value_schema, Some(expected));
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.values(), &[Value::Int32(1), s("Sally"), s("gold"), s("true")]);
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_none());

    let mut keep_nulls = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("replace.null.with.default", "false"),
    ]);
    let out = apply(
        &mut keep_nulls,
        t.event("c", None, Some(row(&t, 1, "Sally", Value::Null))),
    )
    .unwrap();
    assert_eq!(out.value.as_struct().unwrap().get("status"), Some(&Value::Null));
}

#[test]
fn rewrite_with_tombstone_keeps_tombstones_with_op_header() {
    let t = customers();
    let mut x = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
        ("add.headers", "op,source.lsn"),
    ]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).unwrap();
    assert_eq!(out.value.as_struct().unwrap().get("__deleted"), Some(&s("true")));
    assert_eq!(out.headers.last_with_name("__op").unwrap().value, s("d"));
    assert_eq!(
        out.headers.last_with_name("__source_lsn").unwrap().value,
        Value::Int64(24023128)
    );

    let tomb = apply(&mut x, t.tombstone(Value::Int32(1))).unwrap();
    assert_eq!(tomb.value, Value::Null);
    assert_eq!(tomb.headers.len(), 1);
    let op = tomb.headers.last_with_name("__op").unwrap();
    assert_eq!(op.value, s("d"));
    assert_eq!(op.schema, Some(Schema::string()));
}

#[test]
fn add_fields_with_prefix_struct_and_alias() {
    let t = customers();
    let mut x = unwrap(&[("add.fields", "op,table,source.ts_ms,lsn:LSN,id")]);
    let out = apply(&mut x, t.event("c", None, Some(row(&t, 1, "Sally", Value::Null)))).unwrap();
    let schema = out.value_schema.unwrap();
    let expected = flat_schema(
        &t,
        &[
            ("__op", Schema::optional_string()),
            ("__table", Schema::optional_string()),
            ("__source_ts_ms", Schema::optional_int64()),
            ("__LSN", Schema::optional_int64()),
            ("__id", Schema::optional_string()),
        ],
    );
    assert_eq!(schema, expected);
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("__op"), Some(&s("c")));
    assert_eq!(v.get("__table"), Some(&s("customers")));
    assert_eq!(v.get("__source_ts_ms"), Some(&Value::Int64(TS_MS - 23)));
    assert_eq!(v.get("__LSN"), Some(&Value::Int64(24023128)));
    // The transaction struct is null (snapshot or no transaction metadata).
    assert_eq!(v.get("__id"), Some(&Value::Null));

    let mut x = unwrap(&[("add.fields", "op,ts_ms"), ("add.fields.prefix", "meta_")]);
    let out = apply(&mut x, t.event("u", None, Some(row(&t, 1, "Sally", Value::Null)))).unwrap();
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("meta_op"), Some(&s("u")));
    assert_eq!(v.get("meta_ts_ms"), Some(&Value::Int64(TS_MS)));
}

#[test]
fn add_fields_on_rewritten_delete() {
    let t = customers();
    let mut x = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("add.fields", "op,source.lsn"),
    ]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).unwrap();
    let names: Vec<_> = out
        .value_schema
        .as_ref()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(
        names,
        ["id", "name", "status", "__deleted", "__op", "__source_lsn"]
    );
    let v = out.value.as_struct().unwrap();
    assert_eq!(v.get("__op"), Some(&s("d")));
    assert_eq!(v.get("__source_lsn"), Some(&Value::Int64(24023128)));
}

#[test]
fn add_headers() {
    let t = customers();
    let mut x = unwrap(&[
        ("add.headers", "op , lsn,db:database"),
        ("add.headers.prefix", "dbz."),
    ]);
    let out = apply(&mut x, t.event("u", None, Some(row(&t, 1, "a", Value::Null)))).unwrap();
    let keys: Vec<_> = out.headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["dbz.op", "dbz.lsn", "dbz.database"]);
    let lsn = out.headers.last_with_name("dbz.lsn").unwrap();
    assert_eq!(lsn.value, Value::Int64(24023128));
    assert_eq!(lsn.schema, Some(Schema::optional_int64()));
    assert_eq!(
        out.headers.last_with_name("dbz.database").unwrap().value,
        s("inventory")
    );
}

#[test]
fn route_by_field_uses_the_row_value() {
    let t = Table::new(
        "events",
        vec![("id", Schema::int32()), ("kind", Schema::optional_string())],
    );
    let mut x = unwrap(&[("route.by.field", "kind")]);
    let r = t.row(vec![Value::Int32(1), s("orders")]);
    assert_eq!(
        &*apply(&mut x, t.event("c", None, Some(r.clone()))).unwrap().topic,
        "orders"
    );
    assert_eq!(
        &*apply(&mut x, t.event("d", Some(r), None)).unwrap().topic,
        "orders"
    );
    let blank = t.row(vec![Value::Int32(2), s(" ")]);
    assert_eq!(
        &*apply(&mut x, t.event("c", None, Some(blank))).unwrap().topic,
        "dbserver1.public.events"
    );
}

#[test]
fn legacy_options_still_work() {
    let t = customers();
    let mut x = unwrap(&[("delete.handling.mode", "rewrite"), ("drop.tombstones", "false")]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).unwrap();
    assert_eq!(out.value.as_struct().unwrap().get("__deleted"), Some(&s("true")));
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_some());

    let mut x = unwrap(&[("delete.handling.mode", "none")]);
    let out = apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).unwrap();
    assert_eq!(out.value, Value::Null);
    assert!(apply(&mut x, t.tombstone(Value::Int32(1))).is_none());

    let mut x = unwrap(&[("drop.tombstones", "true")]);
    assert!(apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).is_none());

    // The current option wins over the legacy ones.
    let mut x = unwrap(&[
        ("delete.handling.mode", "drop"),
        ("delete.tombstone.handling.mode", "tombstone"),
    ]);
    assert!(apply(&mut x, t.event("d", Some(row(&t, 1, "a", Value::Null)), None)).is_some());
}

#[test]
fn drop_fields_listed_in_a_header() {
    let t = customers();
    let with_header = |r: Record| {
        let mut r = r;
        r.headers.add(
            "drop-fields",
            Some(Schema::array(Schema::string()).build()),
            Value::Array(vec![s("id"), s("name")]),
        );
        r
    };
    let mut compatible = unwrap(&[("drop.fields.header.name", "drop-fields")]);
    let out = apply(
        &mut compatible,
        with_header(t.event("c", None, Some(row(&t, 1, "a", Value::Null)))),
    )
    .unwrap();
    let names: Vec<_> = out
        .value_schema
        .as_ref()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(names, ["id", "status"], "only optional fields are dropped");

    let mut all = unwrap(&[
        ("drop.fields.header.name", "drop-fields"),
        ("drop.fields.keep.schema.compatible", "false"),
        ("drop.fields.from.key", "true"),
    ]);
    let out = apply(
        &mut all,
        with_header(t.event("c", None, Some(row(&t, 1, "a", Value::Null)))),
    )
    .unwrap();
    let names: Vec<_> = out
        .value_schema
        .as_ref()
        .unwrap()
        .fields()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(names, ["status"]);
    assert_eq!(out.value.as_struct().unwrap().values(), &[s("active")]);
    assert!(out.key_schema.unwrap().fields().is_empty());
}

#[test]
fn other_records_pass_unchanged_without_headers() {
    let mut x = unwrap(&[("add.headers", "op,source.lsn")]);
    let schema = Schema::struct_builder()
        .name("io.debezium.connector.common.Heartbeat")
        .field("ts_ms", Schema::int64())
        .build();
    let mut hb = Struct::new(schema.clone());
    hb.put("ts_ms", Value::Int64(7)).unwrap();
    let rec = Record::new("__debezium-heartbeat.dbserver1", Some(schema), Value::Struct(hb));
    assert_eq!(apply(&mut x, rec.clone()), Some(rec));
    let schemaless = Record::new("t", None, Value::Map(vec![(s("op"), s("c"))]));
    assert_eq!(apply(&mut x, schemaless.clone()), Some(schemaless));
}

#[test]
fn invalid_mode_is_rejected() {
    let mut x = ExtractNewRecordState::new();
    let err = x
        .configure(&config(&[("delete.tombstone.handling.mode", "jbsdfkjsd")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid value jbsdfkjsd for configuration delete.tombstone.handling.mode: Value must be one of drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone"
    );
    let names: Vec<_> = x.config_def().keys().map(|k| k.name.clone()).collect();
    assert_eq!(
        names,
        [
            "delete.tombstone.handling.mode",
            "route.by.field",
            "add.fields.prefix",
            "add.fields",
            "add.headers.prefix",
            "add.headers",
            "drop.fields.header.name",
            "drop.fields.from.key",
            "drop.fields.keep.schema.compatible"
        ]
    );
}

#[test]
fn plugins_are_registered_by_class() {
    let classes: Vec<_> = ferry_debezium_transforms::plugins()
        .iter()
        .map(|p| p.class)
        .collect();
    assert_eq!(
        classes,
        [
            "io.debezium.transforms.outbox.EventRouter",
            "io.debezium.transforms.ExtractNewRecordState",
            "io.debezium.transforms.ExtractChangedRecordState",
            "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent",
            "io.debezium.transforms.HeaderToValue",
            "io.debezium.transforms.ByLogicalTableRouter",
            "io.debezium.transforms.partitions.PartitionRouting",
            "io.debezium.transforms.TimezoneConverter",
            "io.debezium.transforms.SchemaChangeEventFilter",
            "io.debezium.transforms.ExtractSchemaToNewRecord",
            "io.debezium.transforms.VectorToJsonConverter",
            "io.debezium.transforms.GeometryFormatTransformer",
            "io.debezium.transforms.SwapGeometryCoordinates",
            "io.debezium.transforms.EnforceRecordSize",
            "io.debezium.transforms.openlineage.OpenLineage",
            "io.debezium.transforms.tracing.ActivateTracingSpan",
        ]
    );
}

/// Debezium's ExtractNewRecordState adds `add.headers` to the incoming record's headers,
/// so the connector's context headers come first: on creates, rewritten deletes and the
/// tombstones kept after them.
#[test]
fn context_headers_come_first_then_add_headers() {
    let t = customers();
    let mut x = unwrap(&[
        ("add.headers", "op,db"),
        ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
    ]);
    let mut expected: Vec<&str> = CONTEXT_HEADERS.to_vec();
    expected.extend(["__op", "__db"]);

    let created = with_context_headers(t.event("c", None, Some(row(&t, 1, "a", Value::Null))));
    let out = apply(&mut x, created).unwrap();
    assert_eq!(header_keys(&out), expected);
    assert_eq!(out.headers.iter().next().unwrap().value, s(PREFIX));

    let deleted = with_context_headers(t.event("d", Some(row(&t, 1, "a", Value::Null)), None));
    let out = apply(&mut x, deleted).unwrap();
    assert_eq!(header_keys(&out), expected);
    assert_eq!(out.headers.last_with_name("__op").unwrap().value, s("d"));

    let tomb = apply(&mut x, with_context_headers(t.tombstone(Value::Int32(1)))).unwrap();
    let mut expected: Vec<&str> = CONTEXT_HEADERS.to_vec();
    expected.push("__op");
    assert_eq!(header_keys(&tomb), expected);
}

/// Without `add.headers`, the incoming headers pass through unchanged in order.
#[test]
fn context_headers_pass_through_without_add_headers() {
    let t = customers();
    let mut x = unwrap(&[]);
    let updated = with_context_headers(t.event("u", None, Some(row(&t, 1, "a", Value::Null))));
    let out = apply(&mut x, updated).unwrap();
    assert_eq!(header_keys(&out), CONTEXT_HEADERS);
}
