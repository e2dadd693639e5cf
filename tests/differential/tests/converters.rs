//! Debezium's converters on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3:
//! CloudEventsConverter on PostgreSQL change events (data with and without its schema,
//! `json.*` options, extension attributes off, transaction metadata, whose own topic's
//! records are no envelopes), BinaryDataConverter on an outbox's bytea payloads and
//! ByteArrayConverter delegating change events to JsonConverter; the converters' plugin
//! definitions and validation; and the tasks that must fail (Avro without a schema
//! registry; a struct, or a bytea payload, which is a ByteBuffer, through ByteArrayConverter
//! without a delegate).
//!
//! No normalisation beyond the suite's own: every table starts empty, so each record is a
//! streamed event, and streamed events carry the same commit's LSN, transaction id and
//! commit time on both runtimes (they read one database through slots of their own), so the
//! CloudEvents `id`, `time` and `iodebezium*` attributes must be equal as they are.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_failed, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known: none (a
/// converter refusing its configuration fails the task with the Java exception's name and
/// no task version, as Connect reports it).
const KNOWN: &[Known] = &[];

const VALIDATE: &str = "PUT validate (CloudEventsConverter)";
const AVRO_STATUS: &str = "GET /connectors/ceavro/status (FAILED)";

const CLOUDEVENTS: &str = "io.debezium.converters.CloudEventsConverter";
const BYTE_ARRAY: &str = "io.debezium.converters.ByteArrayConverter";
const BINARY_DATA: &str = "io.debezium.converters.BinaryDataConverter";

const SCHEMA: &str = "
    CREATE TABLE items (
        id INT PRIMARY KEY,
        name TEXT,
        price NUMERIC(10,2),
        created TIMESTAMPTZ,
        flag BOOLEAN,
        raw BYTEA
    );
    CREATE TABLE outbox (
        id UUID PRIMARY KEY,
        aggregatetype VARCHAR(255) NOT NULL,
        aggregateid VARCHAR(255) NOT NULL,
        type VARCHAR(255) NOT NULL,
        payload BYTEA
    );";

fn items(prefix: &str, value_converter: Value) -> Value {
    let mut config = json!({
        "topic.prefix": prefix,
        "table.include.list": "public.items",
    });
    for (k, v) in value_converter.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

/// An outbox connector with `prefix` routing to `route` with `value_converter` and string
/// keys. Each connector has a prefix of its own: Debezium names its metrics after it, and a
/// second connector with the same one waits for the first's to go away.
fn outbox(prefix: &str, route: &str, value_converter: &str) -> Value {
    json!({
        "topic.prefix": prefix,
        "table.include.list": "public.outbox",
        "tombstones.on.delete": "false",
        "transforms": "outbox",
        "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
        "transforms.outbox.route.topic.replacement": route,
        "value.converter": value_converter,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}

type Settings = fn() -> Value;

/// Connector name, its settings, and its topic's expected record count.
const CONNECTORS: &[(&str, Settings, &str, usize)] = &[
    // Data with its schema (json.schemas.enable defaults to true).
    (
        "ce",
        || items("ce", json!({"value.converter": CLOUDEVENTS})),
        "ce.public.items",
        ITEM_RECORDS,
    ),
    // Data without schema, decimals as numbers, the key converter schemaless too.
    (
        "cens",
        || {
            items(
                "cens",
                json!({
                    "value.converter": CLOUDEVENTS,
                    "value.converter.json.schemas.enable": "false",
                    "value.converter.json.decimal.format": "NUMERIC",
                    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "key.converter.schemas.enable": "false",
                }),
            )
        },
        "cens.public.items",
        ITEM_RECORDS,
    ),
    // No extension attributes; the metadata sources spelled out.
    (
        "ceplain",
        || {
            items(
                "cep",
                json!({
                    "value.converter": CLOUDEVENTS,
                    "value.converter.extension.attributes.enable": "false",
                    "value.converter.json.schemas.enable": "false",
                    "value.converter.metadata.source": "value,id:generate,type:generate",
                }),
            )
        },
        "cep.public.items",
        ITEM_RECORDS,
    ),
    // Transaction metadata: the tx attributes filled; the transaction topic's BEGIN/END
    // records are no envelopes, so their values are null.
    (
        "cetx",
        || {
            items(
                "cetx",
                json!({
                    "value.converter": CLOUDEVENTS,
                    "value.converter.json.schemas.enable": "false",
                    "provide.transaction.metadata": "true",
                }),
            )
        },
        "cetx.public.items",
        ITEM_RECORDS,
    ),
    // Change events through ByteArrayConverter's delegate (a struct is no byte[]).
    (
        "bytes",
        || {
            items(
                "byt",
                json!({
                    "value.converter": BYTE_ARRAY,
                    "value.converter.delegate.converter.type": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter.delegate.converter.type.schemas.enable": "false",
                }),
            )
        },
        "byt.public.items",
        ITEM_RECORDS,
    ),
    // The outbox's bytea payloads (ByteBuffers) as they are, through BinaryDataConverter.
    (
        "binary",
        || outbox("ob", "outbox.event.${routedByValue}", BINARY_DATA),
        "outbox.event.Order",
        OUTBOX_EVENTS,
    ),
];

/// Per items topic: 2 c + 1 u + (d, tombstone) + 2 c + 1 u (to a NULL-heavy row).
const ITEM_RECORDS: usize = 2 + 1 + 2 + 2 + 1;
const OUTBOX_EVENTS: usize = 4;
/// BEGIN and END of the 5 transactions on items and of the 4 on the outbox (whose events
/// the connector's table list filters out, but not their transaction markers).
const TX_RECORDS: usize = 2 * (5 + OUTBOX_EVENTS);

/// Connectors whose task must fail, with the setting that makes it fail.
const FAILING: &[(&str, Settings)] = &[
    // Avro needs a schema registry.
    ("ceavro", || {
        items(
            "cea",
            json!({"value.converter": CLOUDEVENTS, "value.converter.serializer.type": "avro"}),
        )
    }),
    // A change event is a struct: ByteArrayConverter needs a delegate for it.
    ("nodelegate", || {
        items("nod", json!({"value.converter": BYTE_ARRAY}))
    }),
    // Debezium's connectors give binary columns as ByteBuffers, which ByteArrayConverter
    // (unlike BinaryDataConverter) does not pass through.
    ("bytebuffer", || {
        outbox("obb", "buffer.event.${routedByValue}", BYTE_ARRAY)
    }),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_converters_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("convs").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();

    let mut pair = Pair::start("pgconverters", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        let names = CONNECTORS.iter().map(|c| c.0).chain(FAILING.iter().map(|f| f.0));
        for name in names {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }

    // The converters' definitions, as the plugin endpoint lists them.
    for class in [CLOUDEVENTS, BYTE_ARRAY, BINARY_DATA] {
        pair.exchange(
            &format!("GET /connector-plugins/{class}/config"),
            "GET",
            &format!("/connector-plugins/{class}/config"),
            None,
        )
        .await;
    }
    // Validation with the converter and its options: Connect validates a converter's own
    // definition, which for CloudEventsConverter is empty (Debezium keeps `config()`'s
    // default), so nothing is added and the options are not checked.
    let validate = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "name": "val",
        "topic": "t",
        "file": "/tmp/x",
        "value.converter": CLOUDEVENTS,
        "value.converter.serializer.type": "json",
        "value.converter.extension.attributes.enable": "maybe",
        "value.converter.metadata.source": "value,id:generate",
    });
    pair.exchange(
        VALIDATE,
        "PUT",
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate",
        Some(&validate.to_string()),
    )
    .await;

    // Every connector starts before any change (the failing ones too: a task that fails in
    // a snapshot could hold back the other side's slot creation).
    let all = CONNECTORS
        .iter()
        .map(|c| (c.0, c.1))
        .chain(FAILING.iter().copied());
    for (name, config) in all {
        postgres::create_on_both(&mut pair, name, &pg, &db, &config()).await;
    }
    for (name, ..) in CONNECTORS {
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }
    // ceavro fails when its converter is configured, before any change.
    pair.wait_both("/connectors/ceavro/status", tasks_failed).await;
    pair.exchange(AVRO_STATUS, "GET", "/connectors/ceavro/status", None)
        .await;
    for name in ["nodelegate", "bytebuffer"] {
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }

    // One transaction per statement list: 5 transactions touch items.
    for tx in [
        r#"INSERT INTO items VALUES
             (1, 'Jöhn "quoted" \ back', 1.50, '2024-01-02 03:04:05.678+00', true, '\x0102ff'),
             (2, NULL, NULL, NULL, NULL, NULL)"#,
        "UPDATE items SET name = 'renamed', price = 2.25 WHERE id = 1",
        "DELETE FROM items WHERE id = 2",
        r#"BEGIN;
           INSERT INTO items VALUES (3, 'three', -0.01, '1999-12-31 23:59:59+00', false, '\x');
           INSERT INTO items VALUES (4, E'tab\there\nnewline', 99999999.99, NULL, NULL, NULL);
           COMMIT"#,
        "UPDATE items SET name = NULL, price = NULL, created = NULL, flag = NULL, raw = NULL WHERE id = 3",
    ] {
        sql.batch_execute(tx).await.unwrap();
    }
    for i in 0..OUTBOX_EVENTS {
        let id = format!("20000000-0000-0000-0000-{i:012}");
        let payload = match i {
            0 => "'\\x00ff10'".to_string(),
            1 => "convert_to('{\"total\": 12.5}', 'UTF8')".to_string(),
            2 => "NULL".to_string(),
            _ => format!("'\\x{}'", "ab".repeat(300)),
        };
        sql.batch_execute(&format!(
            "BEGIN;
             INSERT INTO outbox VALUES ('{id}', 'Order', '{i}', 'OrderCreated', {payload});
             DELETE FROM outbox WHERE id = '{id}';
             COMMIT;"
        ))
        .await
        .unwrap();
    }

    for (name, _, topic, n) in CONNECTORS {
        pair.compare_topic(&format!("{name} {topic}"), topic, *n);
    }
    // Every task is still running on both.
    for (name, ..) in CONNECTORS {
        let path = format!("/connectors/{name}/status");
        pair.exchange(&format!("GET {path}"), "GET", &path, None).await;
    }
    // The transaction topic: no envelopes, so null values.
    pair.compare_topic("cetx transaction topic", "cetx.transaction", TX_RECORDS);

    // nodelegate fails on the first item change, bytebuffer on the first outbox event: the
    // same status on both (the trace's first line included).
    for name in ["nodelegate", "bytebuffer"] {
        let path = format!("/connectors/{name}/status");
        pair.wait_both(&path, tasks_failed).await;
        pair.exchange(&format!("GET {path} (FAILED)"), "GET", &path, None)
            .await;
    }

    pair.report.finish("debezium converters", KNOWN);
    assert!(
        pair.report.records >= 5 * ITEM_RECORDS + OUTBOX_EVENTS + TX_RECORDS,
        "compared only {} records",
        pair.report.records
    );
}
