//! Debezium's settings that change what the connector does to the server, against a
//! real PostgreSQL: `publish.via.partition.root` (with `skipped.operations`),
//! `snapshot.isolation.mode`, `snapshot.locking.mode` with `snapshot.lock.timeout.ms`,
//! `lsn.flush.mode` (and the deprecated `flush.lsn.source`) and
//! `replica.identity.autoset.values`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use ferry_core::Value;
use ferry_test_support::postgres::PgCluster;

async fn stop(mut t: ferry_postgres::PostgresSourceTask) {
    t.stop().await.unwrap();
}

fn id_of(r: &ferry_core::Record, image: &str) -> Option<i64> {
    match field(&r.value, &[image, "id"]) {
        Value::Int32(v) => Some(i64::from(*v)),
        Value::Int64(v) => Some(*v),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_via_partition_root_creates_the_publication_with_it_and_changes_arrive_under_the_root() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_viaroot").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE parted (id int NOT NULL, region text NOT NULL, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region); \
         CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu'); \
         CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');",
    )
    .await
    .unwrap();
    for (slot, mode) in [
        ("set_viaroot_all", "all_tables"),
        ("set_viaroot_filtered", "filtered"),
    ] {
        let cfg = config(
            pg,
            &db,
            slot,
            &[
                ("publish.via.partition.root", "true"),
                ("publication.autocreate.mode", mode),
                ("table.include.list", "public.parted"),
                ("skipped.operations", "t"),
                ("snapshot.mode", "no_data"),
            ],
        );
        let store = MemOffsets::default();
        let mut t = start(&cfg, &store).await;
        let row = c
            .query_one(
                "SELECT pubviaroot, pubinsert, pubupdate, pubdelete, pubtruncate, puballtables FROM pg_publication WHERE pubname = $1",
                &[&slot],
            )
            .await
            .unwrap();
        let flags: (bool, bool, bool, bool, bool, bool) = (
            row.get(0),
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
        );
        assert_eq!(
            flags,
            (true, true, true, true, false, mode == "all_tables"),
            "{mode}: WITH (publish_via_partition_root = true, publish = 'insert,update,delete')"
        );
        let published: Vec<String> = c
            .query(
                "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = $1 AND tablename LIKE 'parted%'",
                &[&slot],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(published, ["public.parted"], "{mode}: published as the root");

        c.batch_execute(
            "INSERT INTO parted VALUES (1, 'eu', 1), (2, 'us', 2); UPDATE parted SET v = 20 WHERE id = 2",
        )
        .await
        .unwrap();
        let recs = poll_while(&mut t, Duration::from_secs(20), |r| {
            r.iter().filter(|r| op(r).is_some()).count() >= 3
        })
        .await;
        let changes: Vec<_> = recs.iter().filter(|r| op(r).is_some()).collect();
        assert_eq!(changes.len(), 3, "{mode}: {recs:?}");
        for r in &changes {
            assert_eq!(&*r.topic, "srv.public.parted", "{mode}: under the root's name");
            assert_eq!(
                field(&r.value, &["source", "table"]),
                &Value::String("parted".into())
            );
        }
        stop(t).await;
        c.batch_execute("DELETE FROM parted").await.unwrap();
        ferry_postgres::replication::drop_slot(&c, slot).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_publication_cannot_be_an_existing_all_tables_one() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_pub_filtered").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION set_pub_all FOR ALL TABLES;")
        .await
        .unwrap();
    let cfg = config(
        pg,
        &db,
        "set_pub_all",
        &[
            ("publication.autocreate.mode", "filtered"),
            ("snapshot.mode", "no_data"),
        ],
    );
    let err = match try_start(&cfg, &MemOffsets::default()).await {
        Ok(_) => panic!("a FOR ALL TABLES publication cannot be filtered"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("A logical publication for all tables named 'set_pub_all'")
            && err.contains("'publication.autocreate.mode' property to 'all_tables'"),
        "{err}"
    );
}

/// Sessions of the snapshot holding `mode` on table `public.<table>`.
async fn snapshot_locks(c: &tokio_postgres::Client, table: &str) -> Vec<String> {
    c.query(
        "SELECT l.mode FROM pg_locks l JOIN pg_class r ON r.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid \
          WHERE r.relname = $1 AND a.application_name = 'ferry-postgres' AND l.granted",
        &[&table],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_locking_shared_holds_access_share_locks_and_gives_up_after_the_lock_timeout() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_locking").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE locked (id int PRIMARY KEY, v text); INSERT INTO locked SELECT g, 'x' FROM generate_series(1, 10) g;")
        .await
        .unwrap();
    let store = MemOffsets::default();
    let shared = config(
        pg,
        &db,
        "set_locking",
        &[("snapshot.locking.mode", "shared"), ("snapshot.mode", "always")],
    );

    // shared: the snapshot transaction holds ACCESS SHARE on each captured table.
    let mut t = start(&shared, &store).await;
    assert_eq!(snapshot_locks(&c, "locked").await, ["AccessShareLock"]);
    let recs = poll_until(&mut t, 10, Duration::from_secs(20)).await;
    assert_eq!(recs.iter().filter(|r| op(r).as_deref() == Some("r")).count(), 10);
    // Polled through: the snapshot transaction ended, and its locks with it.
    poll_for(&mut t, Duration::from_millis(300)).await;
    assert!(snapshot_locks(&c, "locked").await.is_empty());
    stop(t).await;

    // none (the default): no table lock.
    let none = config(pg, &db, "set_locking", &[("snapshot.mode", "always")]);
    let t = start(&none, &store).await;
    assert!(snapshot_locks(&c, "locked").await.is_empty());
    stop(t).await;

    // A session holding ACCESS EXCLUSIVE: shared gives up after snapshot.lock.timeout.ms
    // with an error naming the setting; none starts (its SELECT would wait later).
    let holder = pg.connect(&db).await;
    holder
        .batch_execute("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut short = shared.clone();
    short.insert("snapshot.lock.timeout.ms".into(), "300".into());
    let began = Instant::now();
    let err = match try_start(&short, &store).await {
        Ok(_) => panic!("the snapshot must not start while its lock is refused"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("snapshot.lock.timeout.ms=300") && err.contains("LOCK TABLE \"public\".\"locked\""),
        "{err}"
    );
    assert!(began.elapsed() < Duration::from_secs(15), "{:?}", began.elapsed());
    let t = start(&none, &store).await;
    stop(t).await;
    holder.batch_execute("ROLLBACK").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_isolation_mode_decides_what_a_snapshot_from_an_existing_slot_sees() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_isolation").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE iso (id int PRIMARY KEY); INSERT INTO iso VALUES (1);")
        .await
        .unwrap();
    let store = MemOffsets::default();
    // The first start creates the slot (its snapshot is the exported one).
    let first = config(pg, &db, "set_isolation", &[("snapshot.mode", "always")]);
    let mut t = start(&first, &store).await;
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    commit_all(&mut t, &recs, &store).await;
    stop(t).await;

    let mut next_id = 100;
    for (mode, sees_later_commit) in [
        ("serializable", false),
        ("repeatable_read", false),
        ("read_committed", true),
        ("read_uncommitted", true),
    ] {
        let cfg = config(
            pg,
            &db,
            "set_isolation",
            &[("snapshot.mode", "always"), ("snapshot.isolation.mode", mode)],
        );
        let mut t = start(&cfg, &store).await;
        // Committed after the snapshot transaction began, before its SELECT.
        next_id += 1;
        c.execute("INSERT INTO iso VALUES ($1)", &[&next_id])
            .await
            .unwrap();
        let recs = poll_while(&mut t, Duration::from_secs(20), |r| {
            r.iter()
                .any(|r| op(r).as_deref() == Some("c") && id_of(r, "after") == Some(i64::from(next_id)))
        })
        .await;
        let in_snapshot = recs
            .iter()
            .any(|r| op(r).as_deref() == Some("r") && id_of(r, "after") == Some(i64::from(next_id)));
        assert_eq!(in_snapshot, sees_later_commit, "{mode}");
        assert!(
            recs.iter()
                .any(|r| op(r).as_deref() == Some("c") && id_of(r, "after") == Some(i64::from(next_id))),
            "{mode}: streamed too"
        );
        commit_all(&mut t, &recs, &store).await;
        stop(t).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lsn_flush_mode_manual_never_confirms_and_connector_and_driver_confirms_keepalives() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_flush").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE flushed (id int PRIMARY KEY); CREATE TABLE elsewhere (id int);")
        .await
        .unwrap();

    // manual (and flush.lsn.source=false, its old spelling): records flow, the slot stays.
    for (slot, setting) in [
        ("set_flush_manual", ("lsn.flush.mode", "manual")),
        ("set_flush_source", ("flush.lsn.source", "false")),
    ] {
        let cfg = config(pg, &db, slot, &[setting, ("snapshot.mode", "no_data")]);
        let store = MemOffsets::default();
        let mut t = start(&cfg, &store).await;
        let created = slot_flush(&c, slot).await;
        for i in 0..5 {
            c.execute("INSERT INTO flushed VALUES ($1)", &[&(i + 1)])
                .await
                .unwrap();
        }
        let recs = poll_until(&mut t, 5, Duration::from_secs(20)).await;
        assert_eq!(recs.len(), 5, "{setting:?}");
        commit_all(&mut t, &recs, &store).await;
        poll_for(&mut t, Duration::from_millis(1500)).await;
        assert_eq!(
            slot_flush(&c, slot).await,
            created,
            "{setting:?}: never confirmed"
        );
        stop(t).await;
        assert_eq!(
            slot_flush(&c, slot).await,
            created,
            "{setting:?}: not at stop either"
        );
        // A restart streams from the stored offset, not again from the slot's position.
        c.execute("INSERT INTO flushed VALUES (100)", &[]).await.unwrap();
        let mut t = start(&cfg, &store).await;
        let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
        let ids: Vec<_> = recs.iter().filter_map(|r| id_of(r, "after")).collect();
        assert_eq!(ids, [100], "{setting:?}");
        poll_for(&mut t, Duration::from_millis(800)).await;
        assert_eq!(slot_flush(&c, slot).await, created, "{setting:?}");
        stop(t).await;
        c.batch_execute("DELETE FROM flushed").await.unwrap();
    }

    // connector vs connector_and_driver, with a filtered publication and WAL written
    // only to a table outside it: the server sends keepalives and nothing else.
    for (slot, mode) in [
        ("set_flush_connector", "connector"),
        ("set_flush_driver", "connector_and_driver"),
    ] {
        let cfg = config(
            pg,
            &db,
            slot,
            &[
                ("lsn.flush.mode", mode),
                ("snapshot.mode", "no_data"),
                ("publication.autocreate.mode", "filtered"),
                ("table.include.list", "public.flushed"),
            ],
        );
        let store = MemOffsets::default();
        let mut t = start(&cfg, &store).await;
        c.execute("INSERT INTO flushed VALUES (1)", &[]).await.unwrap();
        let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
        commit_all(&mut t, &recs, &store).await;
        poll_for(&mut t, Duration::from_millis(800)).await;
        let after_commit = slot_flush(&c, slot).await;
        c.batch_execute("INSERT INTO elsewhere SELECT g FROM generate_series(1, 1000) g")
            .await
            .unwrap();
        let written: String = c
            .query_one("SELECT pg_current_wal_lsn()::text", &[])
            .await
            .unwrap()
            .get(0);
        let lsn = |s: &str| ferry_postgres::Lsn::parse(s).unwrap();
        let wait = if mode == "connector" { 4 } else { 15 };
        let deadline = Instant::now() + Duration::from_secs(wait);
        while Instant::now() < deadline && lsn(&slot_flush(&c, slot).await) < lsn(&written) {
            let extra = poll_for(&mut t, Duration::from_millis(300)).await;
            assert!(extra.is_empty(), "{mode}: {extra:?}");
        }
        let now = slot_flush(&c, slot).await;
        if mode == "connector" {
            assert_eq!(now, after_commit, "connector: only what stored offsets cover");
        } else {
            assert!(
                lsn(&now) >= lsn(&written),
                "connector_and_driver: {now} < {written}"
            );
        }
        stop(t).await;
        c.batch_execute("DELETE FROM flushed").await.unwrap();
    }
}

/// `relreplident` and the replica identity index of `public.<table>`.
async fn replica_identity(c: &tokio_postgres::Client, table: &str) -> (String, Option<String>) {
    let r = c
        .query_one(
            "SELECT c.relreplident::text, (SELECT ic.relname::text FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                                            WHERE i.indrelid = c.oid AND i.indisreplident) \
               FROM pg_class c WHERE c.oid = ('public.' || $1)::regclass",
            &[&table],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_identity_autoset_values_alter_matching_tables_and_a_missing_privilege_is_only_logged() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_replident").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE orders (id int PRIMARY KEY, status text, note text); \
         CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, qty int); \
         CREATE UNIQUE INDEX items_idx ON items (sku); \
         CREATE TABLE untouched (id int PRIMARY KEY); \
         INSERT INTO orders VALUES (1, 'new', 'n'); INSERT INTO items VALUES (1, 'A', 1);",
    )
    .await
    .unwrap();
    let cfg = config(
        pg,
        &db,
        "set_replident",
        &[
            (
                "replica.identity.autoset.values",
                "public.orders:FULL,public.items:INDEX items_idx",
            ),
            ("snapshot.mode", "no_data"),
        ],
    );
    let store = MemOffsets::default();
    let mut t = start(&cfg, &store).await;
    assert_eq!(replica_identity(&c, "orders").await, ("f".to_string(), None));
    assert_eq!(
        replica_identity(&c, "items").await,
        ("i".to_string(), Some("items_idx".to_string()))
    );
    assert_eq!(replica_identity(&c, "untouched").await, ("d".to_string(), None));

    // FULL: an update's before image carries every column.
    c.batch_execute("UPDATE orders SET status = 'paid' WHERE id = 1")
        .await
        .unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    let order = recs
        .iter()
        .find(|r| &*r.topic == "srv.public.orders")
        .expect("orders update");
    assert_eq!(op(order).as_deref(), Some("u"));
    assert_eq!(
        field(&order.value, &["before", "status"]),
        &Value::String("new".into())
    );
    assert_eq!(
        field(&order.value, &["before", "note"]),
        &Value::String("n".into())
    );
    stop(t).await;

    // Already set: a restart changes nothing (and succeeds).
    let t = start(&cfg, &store).await;
    stop(t).await;
    assert_eq!(replica_identity(&c, "orders").await, ("f".to_string(), None));

    // A user who does not own the tables: the ALTER fails (42501), the error is only
    // logged, and the connector streams as usual.
    pg.create_user("replident_user", "pw", true).await;
    c.batch_execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO replident_user; ALTER TABLE orders REPLICA IDENTITY DEFAULT")
        .await
        .unwrap();
    let mut as_user = cfg.clone();
    as_user.insert("database.user".into(), "replident_user".into());
    as_user.insert("database.password".into(), "pw".into());
    as_user.insert("slot.name".into(), "set_replident_user".into());
    // The publication exists already (set_replident, FOR ALL TABLES by the superuser).
    let parsed = ferry_postgres::PostgresConfig::parse(&as_user).unwrap();
    let user_client = pg.connect_as(&db, "replident_user", "pw").await;
    let ids = [
        ferry_postgres::schema::TableId {
            schema: "public".into(),
            table: "orders".into(),
        },
        ferry_postgres::schema::TableId {
            schema: "public".into(),
            table: "untouched".into(),
        },
    ];
    let outcomes = ferry_postgres::replication::apply_replica_identities(&user_client, &parsed, &ids).await;
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    match &outcomes[0].1 {
        ferry_postgres::replication::ReplicaIdentityOutcome::Failed(why) => {
            assert!(
                why.contains("lack of privileges") && why.contains("replident_user"),
                "{why}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut t = start(&as_user, &MemOffsets::default()).await;
    assert_eq!(replica_identity(&c, "orders").await, ("d".to_string(), None));
    c.execute("INSERT INTO untouched VALUES (7)", &[]).await.unwrap();
    let recs = poll_until(&mut t, 1, Duration::from_secs(20)).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(id_of(&recs[0], "after"), Some(7));
    stop(t).await;
}

/// `slot.stream.params=origin=none` drops the changes of transactions replicated from
/// another origin (pgoutput's `origin` filter, applied by Ferry); without it they come
/// with `source.origin` set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_stream_params_origin_none_drops_changes_replicated_from_another_origin() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_origin").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY)")
        .await
        .unwrap();
    // No snapshot: a slot's creation waits for the other task's snapshot transaction.
    let tables = ("table.include.list", "public.t");
    let no_data = ("snapshot.mode", "no_data");
    let only_local = start(
        &config(
            pg,
            &db,
            "set_origin_none",
            &[tables, no_data, ("slot.stream.params", "origin=none")],
        ),
        &MemOffsets::default(),
    )
    .await;
    let every = start(
        &config(pg, &db, "set_origin_any", &[tables, no_data]),
        &MemOffsets::default(),
    )
    .await;
    // As a replication apply worker writes: a session bound to a replication origin.
    c.batch_execute(
        "SELECT pg_replication_origin_create('set_origin_upstream');
         SELECT pg_replication_origin_session_setup('set_origin_upstream');
         INSERT INTO t VALUES (1);
         BEGIN; INSERT INTO t VALUES (2); INSERT INTO t VALUES (3); COMMIT;
         SELECT pg_replication_origin_session_reset();
         INSERT INTO t VALUES (4);",
    )
    .await
    .unwrap();
    let mut results = Vec::new();
    for (mut t, want) in [(only_local, 1), (every, 4)] {
        let got = poll_while(&mut t, Duration::from_secs(30), |r| {
            r.iter().filter(|r| op(r).is_some()).count() >= want
        })
        .await;
        // Anything more would arrive right behind.
        let more = poll_for(&mut t, Duration::from_secs(1)).await;
        let changes: Vec<(Option<i64>, Value)> = got
            .iter()
            .chain(&more)
            .filter(|r| op(r).is_some())
            .map(|r| (id_of(r, "after"), field(&r.value, &["source", "origin"]).clone()))
            .collect();
        results.push(changes);
        stop(t).await;
    }
    let upstream = Value::String("set_origin_upstream".into());
    assert_eq!(results[0], vec![(Some(4), Value::Null)], "origin=none");
    assert_eq!(
        results[1],
        vec![
            (Some(1), upstream.clone()),
            (Some(2), upstream.clone()),
            (Some(3), upstream),
            (Some(4), Value::Null)
        ],
        "origin=any (the default)"
    );
}

/// `database.initial.statements` run on every query connection, not the replication one
/// (`;;` stands for a semicolon); a failing statement stops the task's start, naming the
/// key and the SQLSTATE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_initial_statements_run_on_every_query_connection() {
    let pg = PgCluster::shared();
    let db = pg.create_database("set_initial").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let statements = (
        "database.initial.statements",
        "SET application_name = 'ferry;;init'; SET statement_timeout = 12345",
    );
    let mut t = start(
        &config(
            pg,
            &db,
            "set_initial",
            &[("table.include.list", "public.t"), statements],
        ),
        &MemOffsets::default(),
    )
    .await;
    let got = poll_while(&mut t, Duration::from_secs(30), |r| {
        r.iter().any(|r| op(r).as_deref() == Some("r"))
    })
    .await;
    assert_eq!(got.iter().filter(|r| op(r).is_some()).count(), 1);
    let sessions: Vec<(String, String)> = c
        .query(
            "SELECT backend_type, application_name FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY 1, 2",
            &[&db],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        sessions.contains(&("client backend".into(), "ferry;init".into())),
        "the task's query session ran the statements: {sessions:?}"
    );
    assert!(
        sessions.contains(&("walsender".into(), "ferry-postgres".into())),
        "the replication session did not: {sessions:?}"
    );
    stop(t).await;

    let failing = config(
        pg,
        &db,
        "set_initial_bad",
        &[("database.initial.statements", "SET no_such_setting = 1")],
    );
    let err = try_start(&failing, &MemOffsets::default())
        .await
        .err()
        .expect("a failing initial statement stops the start")
        .to_string();
    assert!(
        err.contains("database.initial.statements")
            && err.contains("SET no_such_setting = 1")
            && err.contains("42704"),
        "{err}"
    );
}
