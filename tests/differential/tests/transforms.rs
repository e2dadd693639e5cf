//! Debezium's other transforms on Ferry and on the real Kafka Connect 4.3 with Debezium
//! 3.6.3, on the same PostgreSQL changes: ExtractChangedRecordState, HeaderToValue,
//! ByLogicalTableRouter and PartitionRouting chained on two shard tables; TimezoneConverter;
//! DecodeLogicalDecodingMessageContent alone; and the table-less outbox
//! (`pg_logical_emit_message` through DecodeLogicalDecodingMessageContent and EventRouter),
//! whose records must also equal those an outbox table row with the same values gives.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_differential::records::{read_topic, record_json};
use ferry_differential::report::Known;
use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

/// The transforms compared here, by class name.
const CLASSES: &[&str] = &[
    "io.debezium.transforms.ExtractChangedRecordState",
    "io.debezium.transforms.HeaderToValue",
    "io.debezium.transforms.ByLogicalTableRouter",
    "io.debezium.transforms.partitions.PartitionRouting",
    "io.debezium.transforms.TimezoneConverter",
    "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent",
];

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason (docs/debezium-transforms.md).
const KNOWN: &[Known] = &[
    Known {
        step: INVALID,
        path: "$.configs[\"transforms.*\"].value.errors[0]",
        why: CONFIGURE_CHECKS,
    },
    Known {
        step: INVALID,
        path: "$.error_count",
        why: CONFIGURE_CHECKS,
    },
];

const INVALID: &str = "PUT validate (bad transform settings)";
const CONFIGURE_CHECKS: &str = "deliberate: Ferry's validation also configures each transform, so \
     what Debezium's transforms refuse in configure() (a missing HeaderToValue operation, a \
     partition count of 0, an unknown zone) is reported here; Connect validates only the \
     definitions, which carry no validators, and the task fails when it starts";

const SCHEMA: &str = "
    CREATE TABLE orders_shard1 (
        id INT PRIMARY KEY,
        item TEXT NOT NULL,
        qty INT,
        placed TIMESTAMPTZ,
        local_at TIMESTAMP(6),
        raw BYTEA
    );
    CREATE TABLE orders_shard2 (LIKE orders_shard1 INCLUDING ALL);
    ALTER TABLE orders_shard1 REPLICA IDENTITY FULL;
    ALTER TABLE orders_shard2 REPLICA IDENTITY FULL;
    CREATE TABLE clocks (
        id INT PRIMARY KEY,
        placed TIMESTAMPTZ,
        local_at TIMESTAMP(6),
        ms TIMESTAMP(3),
        t TIMETZ,
        d DATE
    );
    CREATE TABLE outbox (
        id UUID PRIMARY KEY,
        aggregatetype VARCHAR(255) NOT NULL,
        aggregateid VARCHAR(255) NOT NULL,
        type VARCHAR(255) NOT NULL,
        payload JSONB NOT NULL
    );";

fn order(id: i32, item: &str) -> String {
    format!(
        "({id}, '{item}', {id}, TIMESTAMPTZ '2024-03-10 01:02:03.123456+00' + interval '{id} days', \
         TIMESTAMP '2024-07-01 12:00:00.5' + interval '{id} hours', '\\x01{id:02x}')"
    )
}

/// JsonConverter without schemas for keys and values, as Debezium documents the
/// message-decoding recipe.
fn schemaless(mut config: Value) -> Value {
    for side in ["key", "value"] {
        config[format!("{side}.converter")] = json!("org.apache.kafka.connect.json.JsonConverter");
        config[format!("{side}.converter.schemas.enable")] = json!("false");
    }
    config
}

fn shards_config() -> Value {
    json!({
        "topic.prefix": "sh",
        "table.include.list": "public.orders_shard1,public.orders_shard2",
        "topic.creation.default.partitions": "4",
        "transforms": "changed,tovalue,router,partition",
        "transforms.changed.type": "io.debezium.transforms.ExtractChangedRecordState",
        "transforms.changed.header.changed.name": "Changed",
        "transforms.changed.header.unchanged.name": "Unchanged",
        "transforms.tovalue.type": "io.debezium.transforms.HeaderToValue",
        "transforms.tovalue.headers": "Changed,Unchanged,__debezium.context.connectorName",
        "transforms.tovalue.fields": "changed,meta.unchanged,source.connector_name",
        "transforms.tovalue.operation": "move",
        "transforms.router.type": "io.debezium.transforms.ByLogicalTableRouter",
        "transforms.router.topic.regex": "(.*)\\.public\\.orders_shard(\\d+)",
        "transforms.router.topic.replacement": "$1.orders",
        "transforms.router.key.field.regex": ".*_shard(\\d+)",
        "transforms.router.key.field.replacement": "shard-$1",
        "transforms.partition.type": "io.debezium.transforms.partitions.PartitionRouting",
        "transforms.partition.partition.payload.fields": "change.item,source.table",
        "transforms.partition.partition.topic.num": "4",
        "transforms.partition.partition.hash.function": "murmur",
    })
}

fn timezone_config() -> Value {
    json!({
        "topic.prefix": "tz",
        "table.include.list": "public.orders_shard1",
        "transforms": "tz",
        "transforms.tz.type": "io.debezium.transforms.TimezoneConverter",
        "transforms.tz.converted.timezone": "Asia/Kolkata",
    })
}

/// Include rules (only the first carries the `source:` prefix), a zone with daylight saving
/// time and the source block's `ts_ms`.
fn timezone_include_config() -> Value {
    json!({
        "topic.prefix": "tzi",
        "table.include.list": "public.clocks",
        "transforms": "tz",
        "transforms.tz.type": "io.debezium.transforms.TimezoneConverter",
        "transforms.tz.converted.timezone": "America/New_York",
        "transforms.tz.include.list": "source:clocks:placed,clocks:local_at,clocks:ms,clocks:t,clocks:source.ts_ms",
    })
}

/// An exclude rule and a fixed offset.
fn timezone_exclude_config() -> Value {
    json!({
        "topic.prefix": "tze",
        "table.include.list": "public.clocks",
        "transforms": "tz",
        "transforms.tz.type": "io.debezium.transforms.TimezoneConverter",
        "transforms.tz.converted.timezone": "-03:30",
        "transforms.tz.exclude.list": "topic:tze.public.clocks:t",
    })
}

fn messages_config() -> Value {
    json!({
        "topic.prefix": "msg",
        "table.include.list": "public.nothing",
        "message.prefix.include.list": "audit",
        "transforms": "decode",
        "transforms.decode.type": "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent",
    })
}

/// The table-less outbox: messages with prefix `outbox`, decoded, then EventRouter with its
/// defaults (id, aggregatetype, aggregateid, payload; topic `outbox.event.<aggregatetype>`).
fn message_outbox_config() -> Value {
    schemaless(json!({
        "topic.prefix": "mo",
        "table.include.list": "public.nothing",
        "message.prefix.include.list": "outbox",
        "transforms": "decode,outbox",
        "transforms.decode.type": "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent",
        "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
    }))
}

/// The same events as rows of an outbox table (payload jsonb, expanded), routed to
/// `table.event.<aggregatetype>` to keep them apart from the message path's records.
fn table_outbox_config() -> Value {
    schemaless(json!({
        "topic.prefix": "to",
        "table.include.list": "public.outbox",
        "tombstones.on.delete": "false",
        "extended.headers.enabled": "false",
        "transforms": "outbox",
        "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
        "transforms.outbox.table.expand.json.payload": "true",
        "transforms.outbox.route.topic.replacement": "table.event.${routedByValue}",
    }))
}

/// A connector's own settings.
type Settings = fn() -> Value;

const CONNECTORS: &[(&str, Settings)] = &[
    ("shards", shards_config),
    ("tz", timezone_config),
    ("tzi", timezone_include_config),
    ("tze", timezone_exclude_config),
    ("messages", messages_config),
    ("msgoutbox", message_outbox_config),
    ("tableoutbox", table_outbox_config),
];

/// Key, value and headers of each record of `topic` (no partition, no timestamp).
fn contents(broker: &Tansu, topic: &str, expected: usize) -> Vec<Value> {
    read_topic(broker, topic, expected)
        .iter()
        .map(|r| {
            let mut j = record_json(r);
            j.as_object_mut().unwrap().remove("partition");
            j
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_transforms_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("smt").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();
    sql.batch_execute(&format!(
        "INSERT INTO orders_shard1 VALUES {}, {};
         INSERT INTO orders_shard2 VALUES {};",
        order(1, "book"),
        order(2, "pen"),
        order(1, "lamp")
    ))
    .await
    .unwrap();
    // Wall-clock times in New York's spring gap and autumn overlap, a negative epoch.
    sql.batch_execute(
        "INSERT INTO clocks VALUES
         (1, '2024-11-03 05:30:00.25+00', '2024-03-10 02:30:00', '2024-03-10 02:30:00.123', '10:11:12.5+02', '2024-03-10'),
         (2, '2024-11-03 05:30:00+00', '2024-11-03 01:30:00.000001', '2024-11-03 01:30:00', '23:59:59Z', '2024-11-03'),
         (3, '2024-11-03 01:30:00+00', '2024-07-01 12:00:00', '1969-12-31 23:59:59.999', '00:00:00-08', '1969-12-31');",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("smt", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        for (name, _) in CONNECTORS {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }

    // Each transform's settings as GET /connector-plugins/CLASS/config lists them.
    for class in CLASSES {
        pair.exchange(
            &format!("GET config of {class}"),
            "GET",
            &format!("/connector-plugins/{class}/config"),
            None,
        )
        .await;
    }
    // A connector config using them, validated (a FileStreamSource connector, so that only
    // the transforms' part of the answer is new here).
    let mut chain = shards_config();
    for (k, v) in timezone_config().as_object().unwrap() {
        if k.starts_with("transforms.tz") {
            chain[k] = v.clone();
        }
    }
    chain["transforms"] = json!("changed,tovalue,router,partition,tz,decode");
    chain["transforms.decode.type"] = messages_config()["transforms.decode.type"].clone();
    chain["connector.class"] = json!("org.apache.kafka.connect.file.FileStreamSourceConnector");
    chain["topic"] = json!("t");
    chain["file"] = json!("/tmp/x");
    pair.exchange(
        "PUT validate (transforms chain)",
        "PUT",
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate",
        Some(&chain.to_string()),
    )
    .await;

    // The same with settings Debezium refuses when it configures the transforms.
    chain
        .as_object_mut()
        .unwrap()
        .remove("transforms.tovalue.operation");
    chain["transforms.tz.converted.timezone"] = json!("Mars/Olympus");
    chain["transforms.partition.partition.topic.num"] = json!("0");
    pair.exchange(
        "PUT validate (bad transform settings)",
        "PUT",
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate",
        Some(&chain.to_string()),
    )
    .await;

    for (name, config) in CONNECTORS {
        postgres::create_on_both(&mut pair, name, &pg, &db, &config()).await;
    }
    for (name, _) in CONNECTORS {
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }
    // The snapshots (3 shard rows, 2 of shard1) before any streamed change.
    pair.compare_topic("shards snapshot", "sh.orders", 3);
    pair.compare_topic("timezone snapshot", "tz.public.orders_shard1", 2);
    pair.compare_topic("timezone include snapshot", "tzi.public.clocks", 3);
    pair.compare_topic("timezone exclude snapshot", "tze.public.clocks", 3);

    sql.batch_execute(&format!(
        "INSERT INTO orders_shard1 VALUES {};
         INSERT INTO orders_shard2 VALUES {}, {};
         UPDATE orders_shard1 SET qty = qty + 10 WHERE id = 1;
         UPDATE orders_shard2 SET item = 'desk lamp', raw = '\\x0a0b' WHERE id = 1;
         UPDATE orders_shard1 SET placed = placed + interval '1 hour' WHERE id = 3;
         DELETE FROM orders_shard1 WHERE id = 2;
         DELETE FROM orders_shard2 WHERE id = 3;
         UPDATE clocks SET d = d + 1 WHERE id = 1;",
        order(3, "cup"),
        order(3, "mug"),
        order(4, "bowl")
    ))
    .await
    .unwrap();

    // Audit messages for the decoder alone: one in a transaction, one outside.
    sql.batch_execute(
        r#"BEGIN;
           SELECT pg_logical_emit_message(true, 'audit', '{"user":"ann","action":"login","at":1700000000123,"tags":["a","b"],"meta":{"ip":"10.0.0.1","ok":true},"none":null,"empty":[]}');
           COMMIT;
           SELECT pg_logical_emit_message(false, 'audit', '{"user":"bob","n":12345678901,"f":1.25}');"#,
    )
    .await
    .unwrap();

    // The outbox, both ways in one transaction each: a row (inserted and deleted) and a
    // message with the same columns.
    let events = 12;
    for i in 0..events {
        let aggregate = if i % 3 == 0 { "Customer" } else { "Order" };
        let id = format!("10000000-0000-0000-0000-{i:012}");
        // Keys in jsonb's order (shorter first), so that the row's jsonb text reads the same.
        let payload = format!(r#"{{"id": {i}, "items": ["x", "y"], "total": {i}.5}}"#);
        let message = json!({
            "id": id,
            "aggregatetype": aggregate,
            "aggregateid": (i % 5).to_string(),
            "type": format!("{aggregate}Created"),
            "payload": serde_json::from_str::<Value>(&payload).unwrap(),
        });
        sql.batch_execute(&format!(
            "BEGIN;
             INSERT INTO outbox VALUES ('{id}', '{aggregate}', '{}', '{aggregate}Created', '{payload}');
             SELECT pg_logical_emit_message(true, 'outbox', '{message}');
             DELETE FROM outbox WHERE id = '{id}';
             COMMIT;",
            i % 5
        ))
        .await
        .unwrap();
    }

    // 3 r + 3 c + 3 u + 2 × (d, tombstone), over 4 partitions.
    pair.compare_topic("shards streaming", "sh.orders", 3 + 3 + 3 + 2 + 2);
    // 2 r + 1 c + 2 u + (d, tombstone).
    pair.compare_topic("timezone streaming", "tz.public.orders_shard1", 2 + 1 + 2 + 2);
    pair.compare_topic("timezone include streaming", "tzi.public.clocks", 4);
    pair.compare_topic("timezone exclude streaming", "tze.public.clocks", 4);
    pair.compare_topic("messages decoded", "msg.message", 2);
    let (order_events, customer_events) = (8, 4);
    for (topic, n) in [
        ("outbox.event.Order", order_events),
        ("outbox.event.Customer", customer_events),
        ("table.event.Order", order_events),
        ("table.event.Customer", customer_events),
    ] {
        pair.compare_topic(&format!("outbox {topic}"), topic, n);
    }

    // On each side, the message path's records equal the table path's.
    for (side, broker) in [("ferry", &pair.ferry.broker), ("connect", &pair.connect.broker)] {
        for (aggregate, n) in [("Order", order_events), ("Customer", customer_events)] {
            let from_messages = contents(broker, &format!("outbox.event.{aggregate}"), n);
            let from_rows = contents(broker, &format!("table.event.{aggregate}"), n);
            assert_eq!(from_messages.len(), n, "{side}: {aggregate} events from messages");
            assert_eq!(
                from_messages, from_rows,
                "{side}: the table-less outbox's {aggregate} records differ from the table's"
            );
        }
    }

    pair.report.finish("transforms", KNOWN);
    assert!(
        pair.report.records >= 50,
        "compared only {} records",
        pair.report.records
    );
}
