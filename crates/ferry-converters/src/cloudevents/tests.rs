use super::*;

fn row_schema() -> Schema {
    Schema::struct_builder()
        .name("cdc.public.t.Value")
        .optional()
        .field("id", Schema::int32())
        .field("name", Schema::optional_string())
        .build()
}

fn source_schema() -> Schema {
    Schema::struct_builder()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", Schema::string())
        .field("connector", Schema::string())
        .field("name", Schema::string())
        .field("ts_ms", Schema::int64())
        .field(
            "snapshot",
            Schema::builder(SchemaType::String)
                .optional()
                .default_value(Value::from("false"))
                .build(),
        )
        .field("db", Schema::string())
        .field("sequence", Schema::optional_string())
        .field("schema", Schema::string())
        .field("table", Schema::string())
        .field("txId", Schema::optional_int64())
        .field("lsn", Schema::optional_int64())
        .field("xmin", Schema::optional_int64())
        .build()
}

fn tx_schema() -> Schema {
    Schema::struct_builder()
        .name("event.block")
        .optional()
        .version(1)
        .field("id", Schema::string())
        .field("total_order", Schema::int64())
        .field("data_collection_order", Schema::int64())
        .build()
}

fn envelope_schema() -> Schema {
    Schema::struct_builder()
        .name("cdc.public.t.Envelope")
        .version(2)
        .field("before", row_schema())
        .field("after", row_schema())
        .field("source", source_schema())
        .field("transaction", tx_schema())
        .field("op", Schema::string())
        .field("ts_ms", Schema::optional_int64())
        .build()
}

fn row(id: i32, name: Option<&str>) -> Value {
    Value::Struct(
        Struct::from_values(
            row_schema(),
            vec![Value::Int32(id), name.map_or(Value::Null, Value::from)],
        )
        .unwrap(),
    )
}

fn source(connector: &str) -> Struct {
    Struct::from_values(
        source_schema(),
        vec![
            Value::from("3.6.3.Final"),
            Value::from(connector),
            Value::from("cdc"),
            Value::Int64(1_714_979_289_123),
            // A streamed event's snapshot is null; its default is what Connect's Struct.get gives.
            Value::Null,
            Value::from("db"),
            Value::from("[\"24023104\",\"24023128\"]"),
            Value::from("public"),
            Value::from("t"),
            Value::Int64(771),
            Value::Int64(24_023_128),
            Value::Null,
        ],
    )
    .unwrap()
}

fn event(op: &str, before: Value, after: Value, tx: Value, connector: &str) -> Value {
    Value::Struct(
        Struct::from_values(
            envelope_schema(),
            vec![
                before,
                after,
                Value::Struct(source(connector)),
                tx,
                Value::from(op),
                Value::Int64(1_714_979_290_000),
            ],
        )
        .unwrap(),
    )
}

fn converter(options: &[(&str, &str)]) -> Result<CloudEventsConverter, ConfigError> {
    let mut c = CloudEventsConverter::new();
    let map: ConfigMap = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Converter::configure(&mut c, &map, false)?;
    Ok(c)
}

fn write(c: &CloudEventsConverter, value: &Value) -> Option<String> {
    c.from_connect("cdc.public.t", Some(&envelope_schema()), value)
        .unwrap()
        .map(|b| String::from_utf8(b).unwrap())
}

const ATTRIBUTES: &str = concat!(
    r#"{"id":"name:cdc;lsn:24023128;txId:771;sequence:[\"24023104\",\"24023128\"]","#,
    r#""source":"/debezium/postgresql/cdc","specversion":"1.0","#,
    r#""type":"io.debezium.connector.postgresql.DataChangeEvent","#,
    r#""time":"2024-05-06T07:08:09.123Z","datacontenttype":"application/json","#,
);

const EXTENSIONS: &str = concat!(
    r#""iodebeziumversion":"3.6.3.Final","iodebeziumconnector":"postgresql","iodebeziumname":"cdc","#,
    r#""iodebeziumtsms":"1714979289123","iodebeziumsnapshot":"false","iodebeziumdb":"db","#,
    r#""iodebeziumsequence":"[\"24023104\",\"24023128\"]","iodebeziumschema":"public","#,
    r#""iodebeziumtable":"t","iodebeziumtxId":"771","iodebeziumlsn":"24023128","iodebeziumxmin":null,"#,
);

#[test]
fn an_insert_without_data_schema_is_a_cloudevent_with_debeziums_attributes() {
    let c = converter(&[("json.schemas.enable", "false")]).unwrap();
    let got = write(
        &c,
        &event("c", Value::Null, row(1, Some("a")), Value::Null, "postgresql"),
    )
    .unwrap();
    let want = format!(
        "{ATTRIBUTES}\"iodebeziumop\":\"c\",{EXTENSIONS}{}",
        concat!(
            r#""iodebeziumtxid":null,"iodebeziumtxtotalorder":null,"iodebeziumtxdatacollectionorder":null,"#,
            r#""data":{"before":null,"after":{"id":1,"name":"a"}}}"#
        )
    );
    assert_eq!(got, want);
}

#[test]
fn by_default_data_carries_its_schema_and_transactions_fill_the_tx_attributes() {
    let c = converter(&[]).unwrap();
    let tx = Value::Struct(
        Struct::from_values(
            tx_schema(),
            vec![Value::from("771:24023128"), Value::Int64(3), Value::Int64(1)],
        )
        .unwrap(),
    );
    let got = write(&c, &event("u", row(1, None), row(1, Some("b")), tx, "postgresql")).unwrap();
    let row_schema_json = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"name"}],"optional":true,"name":"cdc.public.t.Value""#;
    let want = format!(
        "{ATTRIBUTES}\"iodebeziumop\":\"u\",{EXTENSIONS}{}{{\"schema\":{{\"type\":\"struct\",\"fields\":[{row_schema_json},\"field\":\"before\"}},{row_schema_json},\"field\":\"after\"}}],\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Data\"}},{}",
        r#""iodebeziumtxid":"771:24023128","iodebeziumtxtotalorder":"3","iodebeziumtxdatacollectionorder":"1","data":"#,
        r#""payload":{"before":{"id":1,"name":null},"after":{"id":1,"name":"b"}}}}"#
    );
    assert_eq!(got, want);
    // The cached data schema serves the next event as well.
    let again = write(
        &c,
        &event("d", row(2, None), Value::Null, Value::Null, "postgresql"),
    )
    .unwrap();
    assert!(
        again.ends_with(r#""payload":{"before":{"id":2,"name":null},"after":null}}}"#),
        "{again}"
    );
}

#[test]
fn extension_attributes_can_be_left_out() {
    let c = converter(&[
        ("json.schemas.enable", "false"),
        ("extension.attributes.enable", "false"),
    ])
    .unwrap();
    let got = write(
        &c,
        &event("d", row(1, None), Value::Null, Value::Null, "postgresql"),
    )
    .unwrap();
    assert_eq!(
        got,
        format!("{ATTRIBUTES}\"data\":{{\"before\":{{\"id\":1,\"name\":null}},\"after\":null}}}}")
    );
}

#[test]
fn records_that_are_not_envelopes_become_null() {
    let c = converter(&[]).unwrap();
    let heartbeat = Schema::struct_builder()
        .name("io.debezium.connector.common.Heartbeat")
        .field("ts_ms", Schema::int64())
        .build();
    let v = Value::Struct(Struct::from_values(heartbeat.clone(), vec![Value::Int64(1)]).unwrap());
    assert_eq!(c.from_connect("t", Some(&heartbeat), &v).unwrap(), None);
    // Tombstones and schemaless values too.
    assert_eq!(
        c.from_connect("t", Some(&envelope_schema()), &Value::Null)
            .unwrap(),
        None
    );
    assert_eq!(c.from_connect("t", None, &Value::from("x")).unwrap(), None);
    // An unnamed schema cannot be checked: an error, not a crash.
    assert!(c
        .from_connect("t", Some(&Schema::string()), &Value::from("x"))
        .is_err());
}

#[test]
fn other_connectors_have_no_cloudevents_maker() {
    let c = converter(&[]).unwrap();
    let e = c
        .from_connect(
            "t",
            Some(&envelope_schema()),
            &event("c", Value::Null, row(1, None), Value::Null, "mysql"),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "No usable CloudEvents converters for connector type \"mysql\""
    );
}

#[test]
fn json_options_pass_through_to_data() {
    let dec = Schema::decimal(2).optional().build();
    let row = Schema::struct_builder()
        .name("cdc.public.m.Value")
        .optional()
        .field("amount", dec.clone())
        .build();
    let envelope = Schema::struct_builder()
        .name("cdc.public.m.Envelope")
        .field("before", row.clone())
        .field("after", row.clone())
        .field("source", source_schema())
        .field("op", Schema::string())
        .build();
    let after = Struct::from_values(row, vec![Value::Decimal("12.50".parse().unwrap())]).unwrap();
    let value = Value::Struct(
        Struct::from_values(
            envelope.clone(),
            vec![
                Value::Null,
                Value::Struct(after),
                Value::Struct(source("postgresql")),
                Value::from("c"),
            ],
        )
        .unwrap(),
    );
    let c = converter(&[
        ("json.schemas.enable", "false"),
        ("json.decimal.format", "NUMERIC"),
    ])
    .unwrap();
    let got = String::from_utf8(c.from_connect("t", Some(&envelope), &value).unwrap().unwrap()).unwrap();
    // No transaction field in this envelope: the tx attributes are null.
    assert!(
        got.ends_with(
            r#""iodebeziumtxdatacollectionorder":null,"data":{"before":null,"after":{"amount":12.50}}}"#
        ),
        "{got}"
    );
}

#[test]
fn only_json_without_header_metadata_is_accepted() {
    let e = converter(&[("serializer.type", "avro")]).err().unwrap();
    assert_eq!(
        e.to_string(),
        "Cannot use 'application/json' data content type within Avro events"
    );
    let e = converter(&[("serializer.type", "avro"), ("data.serializer.type", "avro")])
        .err()
        .unwrap();
    assert!(
        e.to_string()
            .starts_with("Invalid value avro for configuration serializer.type"),
        "{e}"
    );
    let e = converter(&[("data.serializer.type", "protobuf")]).err().unwrap();
    assert!(e.to_string().contains("data.serializer.type"), "{e}");
    assert!(converter(&[("serializer.type", "JSON")]).is_ok());
    let e = converter(&[("metadata.source", "header")]).err().unwrap();
    assert!(e.to_string().contains("metadata.source"), "{e}");
    // The default traceparent:header counts once tracing attributes are on.
    assert!(converter(&[("opentelemetry.tracing.attributes.enable", "true")]).is_err());
    let e = converter(&[("metadata.source", "generate")]).err().unwrap();
    assert_eq!(e.to_string(), "Global metadata source can't be GENERATE");
    let e = converter(&[("metadata.source", "somewhere")]).err().unwrap();
    assert_eq!(e.to_string(), "Global metadata source `somewhere` is not valid");
    let e = converter(&[("metadata.source", "value,id:value")]).err().unwrap();
    assert_eq!(e.to_string(), "Field metadata source can't be VALUE");
    let e = converter(&[("metadata.source", "value,subject:generate")])
        .err()
        .unwrap();
    assert_eq!(
        e.to_string(),
        "Field `subject` is not allowed to set custom source"
    );
    let e = converter(&[("metadata.source", "value,id")]).err().unwrap();
    assert!(e.to_string().contains("FIELD:SOURCE"), "{e}");
    let e = converter(&[("json.decimal.format", "TEXT")]).err().unwrap();
    assert!(e.to_string().contains("decimal.format"), "{e}");
    let e = converter(&[("schema.name.adjustment.mode", "weird")])
        .err()
        .unwrap();
    assert!(e.to_string().contains("schema.name.adjustment.mode"), "{e}");
}

#[test]
fn ids_and_types_from_the_value_are_null_as_in_debezium() {
    // Debezium's record value carries no id or type: every event fails.
    let c = converter(&[("metadata.source", "value")]).unwrap();
    let e = c
        .from_connect(
            "t",
            Some(&envelope_schema()),
            &event("c", Value::Null, row(1, None), Value::Null, "postgresql"),
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid value: null used for required field: \"id\", schema type: STRING"
    );
}

#[test]
fn definition_lists_debeziums_options_in_order() {
    // What Connect lists: nothing (Debezium keeps the default, empty `config()`).
    assert_eq!(
        Converter::config_def(&CloudEventsConverter::new()).keys().count(),
        0
    );
    let def = CloudEventsConverter::definition();
    let names: Vec<&str> = def.keys().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "converter.type",
            "serializer.type",
            "data.serializer.type",
            "opentelemetry.tracing.attributes.enable",
            "extension.attributes.enable",
            "schema.name.adjustment.mode",
            "schema.cloudevents.name",
            "schema.data.name.source.header.enable",
            "metadata.source",
        ]
    );
    assert_eq!(
        def.key("metadata.source").unwrap().default_display().as_deref(),
        Some("value,id:generate,type:generate,traceparent:header,dataSchemaName:generate")
    );
    assert!(!def.key("schema.cloudevents.name").unwrap().is_required());
}

#[test]
fn cloudevents_read_back_with_their_data() {
    for (schemas, extra) in [("true", true), ("false", false)] {
        let c = converter(&[("json.schemas.enable", schemas)]).unwrap();
        let bytes = c
            .from_connect(
                "t",
                Some(&envelope_schema()),
                &event("c", Value::Null, row(4, Some("z")), Value::Null, "postgresql"),
            )
            .unwrap()
            .unwrap();
        let back = c.to_connect("t", Some(&bytes)).unwrap();
        assert_eq!(back.schema, None);
        assert_eq!(back.value.map_get("specversion"), Some(&Value::from("1.0")));
        let data = back.value.map_get("data").unwrap();
        if extra {
            // With its schema the data is a Struct again.
            let after = data
                .as_struct()
                .unwrap()
                .get("after")
                .unwrap()
                .as_struct()
                .unwrap();
            assert_eq!(after.get("id"), Some(&Value::Int32(4)));
        } else {
            let after = data.map_get("after").unwrap();
            assert_eq!(after.map_get("name"), Some(&Value::from("z")));
        }
    }
    let c = converter(&[]).unwrap();
    let e = c
        .to_connect("t", Some(br#"{"id":"1","source":"s"}"#))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("A deserialized record's value is not a CloudEvent"),
        "{e}"
    );
    assert!(c.to_connect("t", None).is_err());
    assert!(c.to_connect("t", Some(b"{not json")).is_err());
}
