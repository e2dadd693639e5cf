//! The outbox pattern end to end: PostgreSQL → Ferry (PostgresConnector +
//! EventRouter) → Kafka, with the seed's connector JSON posted verbatim.

mod common;

use std::time::Duration;

use common::{call, wait_state, WorkerSetup};
use ferry_test_support::kafka::{ConsumedRecord, Tansu};
use ferry_test_support::netns::run_inside_private_network;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

/// The seed's connector JSON, byte for byte: the lab's copy (examples/outbox/connector.json).
const SEED_CONNECTOR_JSON: &str = include_str!("../../../examples/outbox/connector.json");

const SEED_SCHEMA: &str = "
    CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id TEXT NOT NULL, total NUMERIC(10,2) NOT NULL);
    CREATE TABLE outbox (
        id UUID PRIMARY KEY,
        aggregate_type VARCHAR(255) NOT NULL,
        aggregate_id VARCHAR(255) NOT NULL,
        event_type VARCHAR(255) NOT NULL,
        payload JSONB NOT NULL,
        created_at TIMESTAMPTZ DEFAULT NOW()
    );";

async fn place_order(db: &mut tokio_postgres::Client, id: i64, event: &str, commit: bool) {
    let tx = db.transaction().await.unwrap();
    tx.execute(
        "INSERT INTO orders (id, customer_id, total) VALUES ($1, 'c-1', 9.50)",
        &[&id],
    )
    .await
    .unwrap();
    tx.batch_execute(&format!(
        "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) VALUES \
         ('{event}', 'Order', '{id}', 'OrderCreated', '{{\"orderId\": {id}, \"total\": 9.50}}')"
    ))
    .await
    .unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
}

fn json_of(bytes: &Option<Vec<u8>>) -> Value {
    serde_json::from_slice(bytes.as_deref().expect("bytes")).unwrap()
}

fn wait_records(broker: &Tansu, topic: &str, n: usize) -> Vec<ConsumedRecord> {
    broker.consume(topic, n, Duration::from_secs(60))
}

#[test]
fn seed_connector_json_routes_outbox_rows_to_order_events() {
    if !run_inside_private_network(
        "seed_connector_json_routes_outbox_rows_to_order_events",
        &["postgres"],
    ) {
        return;
    }
    let pg = PgCluster::start_on(5432);
    let broker = Tansu::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        pg.create_database("order_db").await;
        let mut db = pg.connect("order_db").await;
        db.batch_execute(SEED_SCHEMA).await.unwrap();

        let setup = WorkerSetup::new("seed", &broker, &[]);
        let ferry = setup.start();
        let body = SEED_CONNECTOR_JSON.to_owned();
        let created = call("POST", &ferry.url("/connectors"), Some(&body)).await;
        assert_eq!(created.status, 201, "{:?}\n{}", created.body, ferry.log_text());
        wait_state(&ferry, "outbox-connector", "RUNNING", &["RUNNING"]).await;

        let (e1, e2, e3, e4) = (
            "0b6a3c4e-7a43-4f3a-9d55-0d5a0c1e0001",
            "0b6a3c4e-7a43-4f3a-9d55-0d5a0c1e0002",
            "0b6a3c4e-7a43-4f3a-9d55-0d5a0c1e0003",
            "0b6a3c4e-7a43-4f3a-9d55-0d5a0c1e0004",
        );
        place_order(&mut db, 42, e1, true).await;
        place_order(&mut db, 43, e2, true).await;
        place_order(&mut db, 44, e3, false).await;

        let mut records = tokio::task::block_in_place(|| wait_records(&broker, "Order_events", 2));
        assert_eq!(records.len(), 2, "log:\n{}", ferry.log_text());
        // Order is kept per key (aggregate), not across keys: compare in key order.
        records.sort_by_key(|r| json_of(&r.key)["payload"].as_str().unwrap().to_owned());
        for (r, (id, event)) in records.iter().zip([(42, e1), (43, e2)]) {
            assert_eq!(
                json_of(&r.key),
                json!({"schema": {"type": "string", "optional": false}, "payload": id.to_string()})
            );
            let value = json_of(&r.value);
            assert_eq!(
                value["schema"],
                json!({"type": "string", "optional": false, "name": "io.debezium.data.Json", "version": 1})
            );
            // jsonb's own text form, as Debezium emits it.
            assert_eq!(value["payload"], format!("{{\"total\": 9.50, \"orderId\": {id}}}"));
            assert_eq!(r.header_str("id"), Some(event));
        }

        // Updates and deletes of outbox rows emit nothing; a later insert proves they were processed.
        db.batch_execute(&format!(
            "UPDATE outbox SET payload = '{{\"changed\": true}}' WHERE id = '{e1}'; DELETE FROM outbox WHERE id = '{e2}';"
        ))
        .await
        .unwrap();
        place_order(&mut db, 45, e4, true).await;
        let records = tokio::task::block_in_place(|| {
            let mut r = wait_records(&broker, "Order_events", 3);
            std::thread::sleep(Duration::from_secs(2));
            r.extend(broker.consume_to_end("Order_events").into_iter().skip(r.len()));
            r
        });
        let mut ids: Vec<&str> = records.iter().map(|r| r.header_str("id").unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, [e1, e2, e4], "rolled-back {e3} and the update/delete must not appear");
        let status = call("GET", &ferry.url("/connectors/outbox-connector/status"), None).await;
        assert_eq!(status.body["connector"]["state"], "RUNNING");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debezium_example_outbox_layout_with_timestamp_and_type_header() {
    let pg = PgCluster::shared();
    let broker = Tansu::shared();
    let db_name = pg.create_database("inventory_outbox").await;
    let db = pg.connect(&db_name).await;
    db.batch_execute(
        "CREATE SCHEMA inventory;
         CREATE TABLE inventory.outboxevent (
            id UUID PRIMARY KEY, aggregatetype VARCHAR(255) NOT NULL, aggregateid VARCHAR(255) NOT NULL,
            type VARCHAR(255) NOT NULL, timestamp TIMESTAMP NOT NULL, payload VARCHAR(8000));",
    )
    .await
    .unwrap();
    let setup = WorkerSetup::new("dbzoutbox", broker, &[]);
    let ferry = setup.start();
    let slot = format!("slot_{}", std::process::id());
    let body = json!({
        "name": "dbz-outbox",
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "tasks.max": "1",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.password": "postgres",
            "database.dbname": db_name,
            "topic.prefix": "dbserver1",
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "schema.include.list": "inventory",
            "table.include.list": "inventory.outboxevent",
            "tombstones.on.delete": "false",
            "transforms": "outbox",
            "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
            "transforms.outbox.route.topic.replacement": "${routedByValue}.events",
            "transforms.outbox.table.field.event.timestamp": "timestamp",
            "transforms.outbox.table.fields.additional.placement": "type:header:eventType",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter"
        }
    });
    let created = call("POST", &ferry.url("/connectors"), Some(&body.to_string())).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    wait_state(&ferry, "dbz-outbox", "RUNNING", &["RUNNING"]).await;
    // Quarkus-style remove-after-insert: INSERT and DELETE in one transaction; the DELETE is dropped.
    db.batch_execute(
        "BEGIN;
         INSERT INTO inventory.outboxevent VALUES ('11111111-2222-3333-4444-555555555555', 'customer', '1001',
           'CustomerCreated', '2026-01-02 03:04:05.678', '{\"id\": 1001}');
         DELETE FROM inventory.outboxevent WHERE id = '11111111-2222-3333-4444-555555555555';
         COMMIT;",
    )
    .await
    .unwrap();
    let records = tokio::task::block_in_place(|| wait_records(broker, "customer.events", 1));
    assert_eq!(records.len(), 1, "log:\n{}", ferry.log_text());
    let r = &records[0];
    assert_eq!(r.key_str(), Some("1001"));
    assert_eq!(r.value_str(), Some("{\"id\": 1001}"));
    assert_eq!(r.header_str("id"), Some("11111111-2222-3333-4444-555555555555"));
    assert_eq!(r.header_str("eventType"), Some("CustomerCreated"));
    assert_eq!(r.timestamp, Some(1_767_323_045_678));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        broker.consume_to_end("customer.events").len(),
        1,
        "the DELETE must not emit"
    );
}
