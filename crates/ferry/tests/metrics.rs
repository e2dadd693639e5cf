//! `GET /metrics` during an outbox run: PostgreSQL → PostgresConnector + EventRouter →
//! Kafka (Tansu). Two scrapes around a burst of rows: the Connect counters move by the
//! number of records written, the rates are positive under load, and Debezium's
//! streaming metrics and the slot's lag appear for the connector.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{call, wait_state, Ferry, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::json;

/// One scrape: `name{labels}` → value.
struct Scrape {
    text: String,
    values: HashMap<String, f64>,
}

impl Scrape {
    async fn take(ferry: &Ferry) -> Scrape {
        let resp = reqwest::get(ferry.url("/metrics")).await.expect("GET /metrics");
        assert_eq!(resp.status(), 200);
        let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
        let text = resp.text().await.unwrap();
        let values = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse::<f64>().ok()?))
            })
            .collect();
        Scrape { text, values }
    }

    /// The value of the series, panicking with the whole scrape when it is absent.
    fn get(&self, series: &str) -> f64 {
        *self
            .values
            .get(series)
            .unwrap_or_else(|| panic!("{series} missing from /metrics:\n{}", self.text))
    }
}

async fn insert_events(db: &tokio_postgres::Client, aggregate: &str, from: usize, n: usize) {
    let mut sql = String::from("BEGIN;");
    for i in from..from + n {
        sql.push_str(&format!(
            "INSERT INTO inventory.outboxevent VALUES (gen_random_uuid(), '{aggregate}', '{}', 'Created', now(), '{{\"n\": {i}}}');",
            i % 7
        ));
        // A transaction per 50 rows: a realistic stream of commits.
        if i % 50 == 49 {
            sql.push_str("COMMIT; BEGIN;");
        }
    }
    sql.push_str("COMMIT;");
    db.batch_execute(&sql).await.unwrap();
}

#[test]
fn a_scrape_during_an_outbox_run_shows_counters_rates_and_lag_that_move_with_load() {
    let pg = PgCluster::start();
    let broker = Tansu::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db_name = pg.create_database("metrics_db").await;
        let db = pg.connect(&db_name).await;
        db.batch_execute(
            "CREATE SCHEMA inventory;
             CREATE TABLE inventory.outboxevent (
                id UUID PRIMARY KEY, aggregatetype VARCHAR(255) NOT NULL, aggregateid VARCHAR(255) NOT NULL,
                type VARCHAR(255) NOT NULL, timestamp TIMESTAMP NOT NULL, payload VARCHAR(8000));",
        )
        .await
        .unwrap();
        let setup = WorkerSetup::new("metrics", &broker, &[]);
        let mut ferry = setup.start();
        let slot = format!("metrics_{}", std::process::id());
        let prefix = format!("metricsrv{}", std::process::id());
        let aggregate = format!("agg{}", std::process::id());
        let body = json!({
            "name": "metrics-outbox",
            "config": {
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "tasks.max": "1",
                "database.hostname": "127.0.0.1",
                "database.port": pg.port().to_string(),
                "database.user": "postgres",
                "database.password": "postgres",
                "database.dbname": db_name,
                "topic.prefix": prefix,
                "plugin.name": "pgoutput",
                "slot.name": slot,
                "publication.name": format!("pub_{slot}"),
                "table.include.list": "inventory.outboxevent",
                "tombstones.on.delete": "false",
                "transforms": "outbox",
                "transforms.outbox.type": "io.debezium.transforms.outbox.EventRouter",
                "transforms.outbox.route.topic.replacement": "${routedByValue}.events",
                "transforms.outbox.table.field.event.timestamp": "timestamp",
                "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                "key.converter": "org.apache.kafka.connect.storage.StringConverter"
            }
        });
        let created = call("POST", &ferry.url("/connectors"), Some(&body.to_string())).await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        wait_state(&ferry, "metrics-outbox", "RUNNING", &["RUNNING"]).await;
        let topic = format!("{aggregate}.events");

        // Warm-up: the topic exists and the first records are through.
        insert_events(&db, &aggregate, 0, 20).await;
        let got = tokio::task::block_in_place(|| broker.consume(&topic, 20, Duration::from_secs(60)));
        assert_eq!(got.len(), 20, "log:\n{}", ferry.log_text());

        let labels = "{connector=\"metrics-outbox\",task=\"0\"}";
        let write_total = format!("kafka_connect_source_task_source_record_write_total{labels}");
        let poll_total = format!("kafka_connect_source_task_source_record_poll_total{labels}");
        let write_rate = format!("kafka_connect_source_task_source_record_write_rate{labels}");
        let dbz = |attr: &str, context: &str| {
            format!("debezium_metrics_{attr}{{context=\"{context}\",name=\"{prefix}\",plugin=\"postgres\"}}")
        };
        let lag = format!(
            "ferry_postgres_replication_slot_lag_bytes{{connector=\"metrics-outbox\",task=\"0\",slot=\"{slot}\"}}"
        );

        // All 20 acknowledged records are counted (acknowledgements are drained per batch).
        let deadline = Instant::now() + Duration::from_secs(30);
        let first = loop {
            let s = Scrape::take(&ferry).await;
            if s.get(&write_total) >= 20.0 && !s.get(&lag).is_nan() || Instant::now() > deadline {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(first.get(&write_total), 20.0, "{}", first.text);
        assert_eq!(first.get(&poll_total), 20.0, "{}", first.text);
        assert_eq!(first.get(&dbz("connected", "streaming")), 1.0);
        assert_eq!(first.get(&dbz("totalnumberofeventsseen", "streaming")), 20.0);
        assert!(first.get(&dbz("millisecondsbehindsource", "streaming")) >= 0.0);
        assert!(first.get(&lag) >= 0.0, "slot lag not read: {}", first.text);
        assert_eq!(first.get("kafka_connect_worker_connector_count"), 1.0);
        assert_eq!(
            first.get("kafka_connect_connector_status{connector=\"metrics-outbox\",status=\"running\"}"),
            1.0
        );
        assert_eq!(
            first.get(
                "kafka_connect_connector_task_status{connector=\"metrics-outbox\",task=\"0\",status=\"running\"}"
            ),
            1.0
        );
        assert!(first.get("process_resident_memory_bytes") > 1_000_000.0);

        // Load: 2,000 more rows; the counters move by exactly that many.
        const LOAD: usize = 2000;
        insert_events(&db, &aggregate, 20, LOAD).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let second = loop {
            let s = Scrape::take(&ferry).await;
            if s.get(&write_total) >= (20 + LOAD) as f64 || Instant::now() > deadline {
                break s;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let moved = second.get(&write_total) - first.get(&write_total);
        assert_eq!(moved, LOAD as f64, "log:\n{}", ferry.log_text());
        assert_eq!(second.get(&poll_total) - first.get(&poll_total), LOAD as f64);
        assert_eq!(
            second.get(&dbz("totalnumberofeventsseen", "streaming")) - first.get(&dbz("totalnumberofeventsseen", "streaming")),
            LOAD as f64
        );
        assert!(
            second.get(&dbz("numberofcommittedtransactions", "streaming"))
                >= first.get(&dbz("numberofcommittedtransactions", "streaming")) + (LOAD / 50) as f64
        );
        // The rate covers the last 30 to 60 s: it grows with the burst.
        assert!(
            second.get(&write_rate) > first.get(&write_rate),
            "rate {} then {}",
            first.get(&write_rate),
            second.get(&write_rate)
        );
        assert!(second.get(&format!("kafka_connect_connector_task_batch_size_max{labels}")) > 1.0);
        let got = tokio::task::block_in_place(|| broker.consume(&topic, 20 + LOAD, Duration::from_secs(60)));
        assert_eq!(got.len(), 20 + LOAD);

        // The slot's lag: WAL written while the slot is not confirmed shows as bytes, and
        // falls back once the task confirms the records it flushed.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = Scrape::take(&ferry).await;
            let lag_now = s.get(&lag);
            if lag_now < 64.0 * 1024.0 {
                break;
            }
            assert!(Instant::now() < deadline, "slot lag stays at {lag_now} bytes");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!(
            "scrape 1: write_total={} rate={:.1}/s; scrape 2: write_total={} rate={:.1}/s behind_source={}ms",
            first.get(&write_total),
            first.get(&write_rate),
            second.get(&write_total),
            second.get(&write_rate),
            second.get(&dbz("millisecondsbehindsource", "streaming"))
        );
        assert!(ferry.terminate().success(), "log:\n{}", ferry.log_text());
    });
}
