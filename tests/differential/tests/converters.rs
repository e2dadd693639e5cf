//! Debezium's converters on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3:
//! CloudEventsConverter on PostgreSQL change events (data with and without its schema,
//! `json.*` options, extension attributes off, transaction metadata, whose own topic's
//! records are no envelopes), ByteArrayConverter on an outbox's bytea payloads and
//! BinaryDataConverter delegating change events to JsonConverter; the converters' plugin
//! definitions and validation; and the tasks that must fail (Avro without a schema
//! registry, a struct without a delegate).
//!
//! No normalisation beyond the suite's own: every table starts empty, so each record is a
//! streamed event, and streamed events carry the same commit's LSN, transaction id and
//! commit time on both runtimes (they read one database through slots of their own), so the
//! CloudEvents `id`, `time` and `iodebezium*` attributes must be equal as they are.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{connector, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::Answer;
use serde_json::{json, Value};

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason.
const KNOWN: &[Known] = &[];

const CLOUDEVENTS: &str = "io.debezium.converters.CloudEventsConverter";
const BYTE_ARRAY: &str = "io.debezium.converters.ByteArrayConverter";
const BINARY_DATA: &str = "io.debezium.converters.BinaryDataConverter";
const POSTGRES: &str = "io.debezium.connector.postgresql.PostgresConnector";

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
    // Change events through BinaryDataConverter's delegate.
    (
        "binary",
        || {
            items(
                "bin",
                json!({
                    "value.converter": BINARY_DATA,
                    "value.converter.delegate.converter.type": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter.delegate.converter.type.schemas.enable": "false",
                }),
            )
        },
        "bin.public.items",
        ITEM_RECORDS,
    ),
    // The outbox's bytea payloads as they are.
    (
        "bytes",
        || {
            json!({
                "topic.prefix": "ob",
                "table.include.list": "public.outbox",
                "tombstones.on.delete": "false",
                "transforms": "outbox",
                "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
                "value.converter": BYTE_ARRAY,
                "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            })
        },
        "outbox.event.Order",
        OUTBOX_EVENTS,
    ),
];

/// Per items topic: 2 c + 1 u + (d, tombstone) + 2 c + 1 u (to a NULL-heavy row).
const ITEM_RECORDS: usize = 2 + 1 + 2 + 2 + 1;
const OUTBOX_EVENTS: usize = 4;
const TX_RECORDS: usize = 2 * 5;

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
];

fn task_failed(a: &Answer) -> bool {
    a.status == 200
        && a.body["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "FAILED"))
}

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
    // Validation of a connector with the converter and its options (Connect validates
    // the converter's definition with the `value.converter.` options).
    let mut validate = items(
        "val",
        json!({
            "value.converter": CLOUDEVENTS,
            "value.converter.serializer.type": "json",
            "value.converter.extension.attributes.enable": "maybe",
            "value.converter.metadata.source": "value,id:generate",
            "header.converter": BINARY_DATA,
        }),
    );
    validate["connector.class"] = json!(POSTGRES);
    validate["name"] = json!("val");
    pair.exchange(
        "PUT validate (CloudEventsConverter)",
        "PUT",
        &format!("/connector-plugins/{POSTGRES}/config/validate"),
        Some(&validate.to_string()),
    )
    .await;

    for (name, config, ..) in CONNECTORS {
        let body = |slot| connector(name, slot, &pg, &db, &config());
        pair.exchange_each(
            &format!("POST /connectors ({name})"),
            "POST",
            "/connectors",
            &body("ferry"),
            &body("connect"),
        )
        .await;
    }
    for (name, ..) in CONNECTORS {
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
    // BEGIN and END of each of the 5 transactions that touched items: null values.
    pair.compare_topic("cetx transaction topic", "cetx.transaction", TX_RECORDS);

    // The connectors whose tasks fail: the same status (trace's first line included).
    for (name, config) in FAILING {
        let body = |slot| connector(name, slot, &pg, &db, &config());
        pair.exchange_each(
            &format!("POST /connectors ({name})"),
            "POST",
            "/connectors",
            &body("ferry"),
            &body("connect"),
        )
        .await;
    }
    // ceavro fails when its converter is configured; nodelegate on the first change event.
    pair.wait_both("/connectors/ceavro/status", task_failed).await;
    pair.exchange(
        "GET /connectors/ceavro/status (FAILED)",
        "GET",
        "/connectors/ceavro/status",
        None,
    )
    .await;
    sql.batch_execute("INSERT INTO items VALUES (5, 'five', 5, NULL, NULL, NULL)")
        .await
        .unwrap();
    pair.wait_both("/connectors/nodelegate/status", task_failed).await;
    pair.exchange(
        "GET /connectors/nodelegate/status (FAILED)",
        "GET",
        "/connectors/nodelegate/status",
        None,
    )
    .await;

    pair.report.finish("debezium converters", KNOWN);
    assert!(
        pair.report.records >= 5 * ITEM_RECORDS + OUTBOX_EVENTS + TX_RECORDS,
        "compared only {} records",
        pair.report.records
    );
}
