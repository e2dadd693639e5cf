//! Debezium's PostgreSQL settings that change what the connector does to the server, on
//! Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3, each runtime with its own
//! slot and publication: `publish.via.partition.root` with `skipped.operations` (the
//! publication each creates, `filtered` and `all_tables`, and the records under the root's
//! name), `replica.identity.autoset.values` (the identity each sets, started one after the
//! other, and the records after it) together with `snapshot.locking.mode=shared` and
//! `snapshot.isolation.mode`, and `lsn.flush.mode=manual` against the default (whether
//! each moves its slot).

use std::time::{Duration, Instant};

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, connector, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::{try_call, Answer};
use serde_json::{json, Value};

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason (docs/compatibility.md).
const KNOWN: &[Known] = &[Known {
    step: GUARDRAIL,
    path: "$.tasks[\"0\"].trace",
    why: "Ferry's trace of a task that could not start begins with 'The source task could not start' \
          and gives the connector's message on its 'Caused by:' line (the same words as Debezium's, \
          checked below); Connect's first line is the Java exception, io.debezium.DebeziumException",
}];

const GUARDRAIL: &str = "GET /connectors/guard/status (guardrail exceeded)";

const SCHEMA: &str = "
    CREATE TABLE parted (id INT, region TEXT, v TEXT, PRIMARY KEY (id, region))
        PARTITION BY LIST (region);
    CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
    CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
    CREATE TABLE ri_orders (id INT PRIMARY KEY, status TEXT, note TEXT);
    CREATE TABLE ri_items (id INT PRIMARY KEY, sku TEXT NOT NULL, qty INT);
    CREATE UNIQUE INDEX ri_items_sku ON ri_items (sku);
    CREATE TABLE flushed (id INT PRIMARY KEY, v TEXT);
    CREATE TABLE elsewhere (id INT);";

/// Sends one request to one worker (no comparison).
async fn call_one(base: &str, method: &str, path: &str, body: Option<&str>) -> Answer {
    try_call(method, &format!("{base}{path}"), body, Duration::from_secs(120))
        .await
        .unwrap()
}

/// Polls `GET path` on one worker until its connector and tasks run (60 s at most).
async fn wait_running(base: &str, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a = call_one(base, "GET", path, None).await;
        if tasks_running(&a) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "GET {base}{path}: {} {}",
            a.status,
            a.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `(relreplident, replica identity index)` of `public.<table>`.
macro_rules! replica_identity {
    ($c:expr, $table:expr) => {{
        let r = $c
            .query_one(
                "SELECT c.relreplident::text, (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                                                WHERE i.indrelid = c.oid AND i.indisreplident) \
                   FROM pg_class c WHERE c.oid = ('public.' || $1)::regclass",
                &[&$table],
            )
            .await
            .unwrap();
        (r.get::<_, String>(0), r.get::<_, Option<String>>(1))
    }};
}

/// What a publication is: its flags and its tables.
macro_rules! publication {
    ($c:expr, $name:expr) => {{
        let r = $c
            .query_one(
                "SELECT json_build_object('pubviaroot', pubviaroot, 'puballtables', puballtables, \
                        'pubinsert', pubinsert, 'pubupdate', pubupdate, 'pubdelete', pubdelete, \
                        'pubtruncate', pubtruncate, \
                        'tables', (SELECT json_agg(schemaname || '.' || tablename ORDER BY schemaname, tablename) \
                                     FROM pg_publication_tables t WHERE t.pubname = p.pubname \
                                      AND tablename LIKE 'parted%'))::text \
                   FROM pg_publication p WHERE pubname = $1",
                &[&$name],
            )
            .await
            .unwrap();
        serde_json::from_str::<Value>(&r.get::<_, String>(0)).unwrap()
    }};
}

/// The slot's confirmed_flush_lsn as a number.
macro_rules! slot_flush {
    ($c:expr, $slot:expr) => {{
        let r = $c
            .query_one(
                "SELECT (confirmed_flush_lsn - '0/0')::bigint FROM pg_replication_slots WHERE slot_name = $1",
                &[&$slot],
            )
            .await
            .unwrap();
        r.get::<_, i64>(0)
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behaviour_settings_match_debezium_in_records_and_in_the_database() {
    let pg = PgCluster::start();
    let db = pg.create_database("settings").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();
    sql.batch_execute(
        "INSERT INTO parted VALUES (1, 'eu', 'a'), (2, 'us', 'b');
         INSERT INTO ri_orders VALUES (1, 'new', 'n1'), (2, 'new', 'n2');
         INSERT INTO ri_items VALUES (1, 'A', 1), (2, 'B', 2);
         INSERT INTO flushed VALUES (1, 'a');",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgsettings", &[]);
    let names = ["vf", "va", "ri", "mf", "mc", "md", "guard"];
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        for name in names {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }
    // The definitions of these settings as /connector-plugins shows them.
    let (f, c) = pair
        .send_both(
            "GET",
            "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config",
            None,
        )
        .await;
    let mine = |a: &Answer| -> Answer {
        let keys = [
            "publish.via.partition.root",
            "snapshot.isolation.mode",
            "snapshot.locking.mode",
            "snapshot.lock.timeout.ms",
            "lsn.flush.mode",
            "flush.lsn.source",
            "replica.identity.autoset.values",
        ];
        let mut picked: Vec<Value> = a
            .body
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|d| keys.contains(&d["name"].as_str().unwrap_or_default()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        picked.sort_by_key(|d| d["name"].as_str().unwrap_or_default().to_string());
        assert_eq!(picked.len(), keys.len(), "{}", a.body);
        Answer {
            status: a.status,
            body: Value::Array(picked),
            location: None,
        }
    };
    let (f, c) = (mine(&f), mine(&c));
    pair.compare_answers(
        "GET /connector-plugins/PostgresConnector/config (these settings)",
        "/config",
        &f,
        &c,
    );

    let settings = |name: &str| -> Value {
        let mut settings = match name {
            // The root's changes through a publication each runtime creates.
            "vf" | "va" => json!({
                "table.include.list": "public.parted",
                "publish.via.partition.root": "true",
                "publication.autocreate.mode": if name == "vf" { "filtered" } else { "all_tables" },
                "skipped.operations": "t",
            }),
            "ri" => json!({
                "table.include.list": "public.ri_.*",
                "replica.identity.autoset.values": "public.ri_orders:FULL,public.ri_items:INDEX ri_items_sku",
                "snapshot.locking.mode": "shared",
                "snapshot.lock.timeout.ms": "5000",
                "snapshot.isolation.mode": "read_committed",
            }),
            "mf" | "md" => json!({
                "table.include.list": "public.flushed",
                "publication.autocreate.mode": "filtered",
                "lsn.flush.mode": if name == "mf" { "manual" } else { "connector_and_driver" },
            }),
            _ => json!({
                "table.include.list": "public.flushed",
                "publication.autocreate.mode": "filtered",
            }),
        };
        settings["topic.prefix"] = json!(name);
        settings
    };

    // replica.identity.autoset.values: Ferry first, then (with the tables reset) Connect,
    // so each runtime's own ALTER TABLE shows.
    let ri_ferry = connector("ri", "ferry", &pg, &db, &settings("ri"));
    let ri_connect = connector("ri", "connect", &pg, &db, &settings("ri"));
    let expected_ri = [
        ("ri_orders", ("f".to_string(), None)),
        ("ri_items", ("i".to_string(), Some("ri_items_sku".to_string()))),
    ];
    let mut ri_answers = Vec::new();
    for (base, body) in [
        (pair.ferry.base.clone(), &ri_ferry),
        (pair.connect.base.clone(), &ri_connect),
    ] {
        sql.batch_execute(
            "ALTER TABLE ri_orders REPLICA IDENTITY DEFAULT; ALTER TABLE ri_items REPLICA IDENTITY DEFAULT",
        )
        .await
        .unwrap();
        ri_answers.push(call_one(&base, "POST", "/connectors", Some(body)).await);
        wait_running(&base, "/connectors/ri/status").await;
        // RUNNING may be reported while the task is still starting: wait for the ALTERs.
        let deadline = Instant::now() + Duration::from_secs(30);
        for (table, identity) in &expected_ri {
            let mut now = replica_identity!(sql, *table);
            while &now != identity && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(200)).await;
                now = replica_identity!(sql, *table);
            }
            assert_eq!(&now, identity, "{base}: {table}");
        }
    }
    pair.compare_answers(
        "POST /connectors (ri)",
        "/connectors",
        &ri_answers[0],
        &ri_answers[1],
    );

    for name in ["vf", "va", "mf", "mc", "md"] {
        postgres::create_on_both(&mut pair, name, &pg, &db, &settings(name)).await;
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }

    // The publications each runtime created.
    for (name, all_tables) in [("vf", false), ("va", true)] {
        let ferry = publication!(sql, format!("ferry_{name}_pub"));
        let connect = publication!(sql, format!("connect_{name}_pub"));
        assert_eq!(ferry, connect, "publication of {name}");
        assert_eq!(
            ferry,
            json!({"pubviaroot": true, "puballtables": all_tables, "pubinsert": true, "pubupdate": true,
                   "pubdelete": true, "pubtruncate": false, "tables": ["public.parted"]}),
            "{name}"
        );
    }
    let flush_at_start: Vec<i64> = {
        let mut v = Vec::new();
        for slot in ["ferry_mf", "connect_mf", "ferry_mc", "connect_mc"] {
            v.push(slot_flush!(sql, slot));
        }
        v
    };

    sql.batch_execute(
        "INSERT INTO parted VALUES (3, 'eu', 'c');
         UPDATE parted SET v = 'w' WHERE id = 1;
         UPDATE parted SET region = 'us' WHERE id = 1;
         DELETE FROM parted WHERE id = 2;
         TRUNCATE parted_us;
         UPDATE ri_orders SET status = 'paid' WHERE id = 1;
         DELETE FROM ri_orders WHERE id = 2;
         UPDATE ri_items SET qty = 10 WHERE id = 1;
         UPDATE ri_items SET sku = 'C' WHERE id = 2;
         INSERT INTO flushed VALUES (2, 'b'), (3, 'c');
         UPDATE flushed SET v = 'x' WHERE id = 1;",
    )
    .await
    .unwrap();

    // 2 r (the parent's snapshot reads its partitions), c, u, the move (d, tombstone, c),
    // d and tombstone; the TRUNCATE is not published ('t' skipped).
    pair.compare_topic("publish.via.partition.root, filtered", "vf.public.parted", 9);
    pair.compare_topic("publish.via.partition.root, all_tables", "va.public.parted", 9);
    // 2 r, u with the whole before image (FULL), d and tombstone.
    pair.compare_topic("replica identity FULL set at start", "ri.public.ri_orders", 5);
    // 2 r, u (the index column unchanged: no before image); a change of the index column is
    // a key change for both: d (before holds only the index column), tombstone, c.
    pair.compare_topic(
        "replica identity USING INDEX set at start",
        "ri.public.ri_items",
        6,
    );
    pair.compare_topic("lsn.flush.mode=manual", "mf.public.flushed", 4);
    pair.compare_topic("lsn.flush.mode default", "mc.public.flushed", 4);
    pair.compare_topic("lsn.flush.mode=connector_and_driver", "md.public.flushed", 4);

    // Offsets are flushed every 500 ms: the default mode confirms them to its slot, manual
    // never does, on either runtime.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut now = Vec::new();
    loop {
        now.clear();
        for slot in ["ferry_mf", "connect_mf", "ferry_mc", "connect_mc"] {
            now.push(slot_flush!(sql, slot));
        }
        if (now[2] > flush_at_start[2] && now[3] > flush_at_start[3]) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        now[2] > flush_at_start[2],
        "ferry, connector mode: {now:?} / {flush_at_start:?}"
    );
    assert!(
        now[3] > flush_at_start[3],
        "connect, connector mode: {now:?} / {flush_at_start:?}"
    );
    assert_eq!(now[0], flush_at_start[0], "ferry, manual: slot not moved");
    assert_eq!(now[1], flush_at_start[1], "connect, manual: slot not moved");

    // connector_and_driver: WAL written only outside the publication, so the server sends
    // keepalives and nothing else. Ferry confirms the keepalive position (everything it
    // emitted being durable). Connect's pgjdbc flushes a keepalive position only while its
    // flushed LSN is at least the start of the last message received; Debezium flushes a
    // transaction's commit LSN, which lies before its commit message (sent at the commit's
    // end), so after a change Connect's slot stays where the offsets put it
    // (docs/compatibility.md).
    sql.batch_execute("INSERT INTO elsewhere SELECT g FROM generate_series(1, 1000) g")
        .await
        .unwrap();
    let written: i64 = sql
        .query_one("SELECT (pg_current_wal_lsn() - '0/0')::bigint", &[])
        .await
        .unwrap()
        .get(0);
    let began = Instant::now();
    let mut driver = (0, 0);
    while began.elapsed() < Duration::from_secs(30) {
        driver = (slot_flush!(sql, "ferry_md"), slot_flush!(sql, "connect_md"));
        // Connect sends a status update every 10 s (status.update.interval.ms).
        if driver.0 >= written && began.elapsed() > Duration::from_secs(12) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let connector_mode = (slot_flush!(sql, "ferry_mc"), slot_flush!(sql, "connect_mc"));
    println!(
        "[settings] WAL at {written}; connector_and_driver slots (ferry, connect) {driver:?}; connector slots {connector_mode:?}"
    );
    let connect_log = std::fs::read_to_string(pair.dir.path().join("connect.log")).unwrap_or_default();
    assert!(
        connect_log.contains("automaticFlush=true"),
        "Connect's md task runs with pgjdbc's automatic flush"
    );
    assert!(
        driver.0 >= written,
        "ferry, connector_and_driver: slot {} behind {written}",
        driver.0
    );
    assert!(
        driver.1 < written,
        "connect, connector_and_driver: slot {} reached {written}: Debezium now flushes keepalive positions after changes too (update docs/compatibility.md)",
        driver.1
    );
    assert!(
        connector_mode.0 < written && connector_mode.1 < written,
        "connector mode: {connector_mode:?}"
    );

    // guardrail.collections.max with action fail: more captured tables fail the task.
    let guard = json!({
        "topic.prefix": "guard",
        "snapshot.mode": "no_data",
        "guardrail.collections.max": "1",
        "guardrail.collections.limit.action": "fail",
    });
    postgres::create_on_both(&mut pair, "guard", &pg, &db, &guard).await;
    let path = "/connectors/guard/status";
    pair.wait_both(path, postgres::tasks_failed).await;
    let (f, c) = pair.exchange(GUARDRAIL, "GET", path, None).await;
    let message =
        "Guardrail limit exceeded: 7 tables/collections configured for capture, but maximum allowed is 1.";
    for (side, answer) in [("ferry", &f), ("connect", &c)] {
        let trace = answer.body["tasks"][0]["trace"].as_str().unwrap_or_default();
        assert!(trace.contains(message), "{side}: {trace}");
    }

    pair.report.finish("postgres behaviour settings", KNOWN);
}
