//! kill -9 of the worker while PostgreSQL changes stream: nothing is lost, and the
//! replication slot is never confirmed past what the offsets topic holds.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{call, wait_state, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

fn parse_lsn(text: &str) -> u64 {
    let (hi, lo) = text.split_once('/').expect("LSN X/Y");
    (u64::from_str_radix(hi, 16).unwrap() << 32) | u64::from_str_radix(lo, 16).unwrap()
}

/// The highest LSN in the connector's latest stored offset (lsn, lsn_proc, lsn_commit).
fn stored_lsn(broker: &Tansu, offsets_topic: &str) -> Option<u64> {
    let records = broker.consume_until_idle(offsets_topic, Duration::from_millis(300));
    let last = records.iter().rev().find(|r| r.value.is_some())?;
    let v: Value = serde_json::from_slice(last.value.as_deref()?).ok()?;
    ["lsn", "lsn_proc", "lsn_commit"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_u64))
        .max()
}

async fn confirmed_flush(db: &tokio_postgres::Client, slot: &str) -> Option<u64> {
    let row = db
        .query_opt(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
            &[&slot],
        )
        .await
        .unwrap()?;
    row.get::<_, Option<String>>(0).map(|s| parse_lsn(&s))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_streaming_loses_nothing_and_the_slot_never_passes_stored_offsets() {
    let pg = PgCluster::shared();
    let broker = Tansu::shared();
    let db_name = pg.create_database("crashdb").await;
    let db = pg.connect(&db_name).await;
    db.batch_execute("CREATE TABLE items (id INT PRIMARY KEY, note TEXT NOT NULL)")
        .await
        .unwrap();
    let setup = WorkerSetup::new("pgcrash", broker, &[("offset.flush.interval.ms", "200")]);
    let offsets_topic = setup.names.topic("offsets");
    let slot = format!("crash_{}", std::process::id());
    let mut ferry = setup.start();
    let body = json!({
        "name": "pg",
        "config": {
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": "127.0.0.1",
            "database.port": pg.port().to_string(),
            "database.user": "postgres",
            "database.password": "postgres",
            "database.dbname": db_name,
            "topic.prefix": "crash",
            "plugin.name": "pgoutput",
            "slot.name": slot,
            "publication.name": format!("pub_{slot}"),
            "table.include.list": "public.items",
            "status.update.interval.ms": "100",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false"
        }
    });
    let r = call("POST", &ferry.url("/connectors"), Some(&body.to_string())).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    wait_state(&ferry, "pg", "RUNNING", &["RUNNING"]).await;

    // A writer commits 10-row transactions at a steady pace until the checks are done.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let pg_conn = pg.connect(&db_name).await;
        let writing = writing.clone();
        tokio::spawn(async move {
            let mut t = 0;
            while writing.load(Ordering::SeqCst) || t < 100 {
                let sql: String = (0..10)
                    .map(|i| format!("INSERT INTO items VALUES ({}, 'n');", t * 10 + i + 1))
                    .collect();
                pg_conn
                    .batch_execute(&format!("BEGIN; {sql} COMMIT;"))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
                t += 1;
            }
            t
        })
    };

    // While streaming: the slot is never confirmed past the stored offsets; one kill -9 midway.
    let mut checks = 0;
    let mut kills = 0;
    while checks < 6 {
        let slot_lsn = confirmed_flush(&db, &slot).await;
        let stored = tokio::task::block_in_place(|| stored_lsn(broker, &offsets_topic));
        if let (Some(c), Some(s)) = (slot_lsn, stored) {
            assert!(c <= s, "confirmed_flush_lsn {c:X} passed the stored offset {s:X}");
            checks += 1;
        }
        if kills == 0 && checks >= 3 {
            ferry.kill9();
            kills += 1;
            ferry = setup.start();
        }
    }
    writing.store(false, Ordering::SeqCst);
    let total_tx = writer.await.unwrap();

    // Every committed row arrives; duplicates only after the crash.
    let want = (total_tx * 10) as usize;
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while seen.len() < want && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        seen.clear();
        let records = tokio::task::block_in_place(|| broker.consume_to_end("crash.public.items"));
        for rec in records {
            let Some(v) = rec.value.as_deref() else { continue };
            let v: Value = serde_json::from_slice(v).unwrap();
            if let Some(id) = v["after"]["id"].as_i64() {
                *seen.entry(id).or_default() += 1;
            }
        }
    }
    let missing: Vec<i64> = (1..=want as i64).filter(|i| !seen.contains_key(i)).collect();
    assert!(
        missing.is_empty(),
        "lost rows {missing:?}\nlog:\n{}",
        ferry.log_text()
    );
    let duplicates: usize = seen.values().map(|n| n - 1).sum();
    eprintln!("postgres crash test: {want} rows, {checks} slot checks, {duplicates} duplicates after 1 kill");
    let slot_lsn = confirmed_flush(&db, &slot).await.unwrap();
    let stored = tokio::task::block_in_place(|| stored_lsn(broker, &offsets_topic)).unwrap();
    assert!(
        slot_lsn <= stored,
        "final: confirmed {slot_lsn:X} > stored {stored:X}"
    );
    drop(ferry);
    // Slots of killed workers stay active briefly; drop ours so reruns start clean.
    let _ = db.execute("SELECT pg_drop_replication_slot($1)", &[&slot]).await;
}
