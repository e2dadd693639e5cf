//! `post.processors` with Debezium's reselect post processor: unchanged TOASTed values
//! (the unavailable-value placeholder) and null values read again by primary key.

mod common;

use std::time::Duration;

use common::*;
use ferry_core::{Record, Value};
use ferry_test_support::postgres::PgCluster;

const WAIT: Duration = Duration::from_secs(20);
const RESELECT: &str = "io.debezium.processors.reselect.ReselectColumnsPostProcessor";
const PLACEHOLDER: &str = "__debezium_unavailable_value";

fn after<'a>(r: &'a Record, col: &str) -> &'a Value {
    field(&r.value, &["after", col])
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() > 40 => format!("{}… ({} chars)", &s[..20], s.len()),
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// Starts a task on slot `slot` with `extra`, runs `sql`, and returns the change events
/// (`c` and `u`) until `n` arrived.
async fn events(
    pg: &PgCluster,
    db: &str,
    slot: &str,
    extra: &[(&str, &str)],
    sql: &str,
    n: usize,
) -> Vec<Record> {
    let mut settings = vec![("snapshot.mode", "no_data")];
    settings.extend_from_slice(extra);
    let cfg = config(pg, db, slot, &settings);
    let mut t = start(&cfg, &MemOffsets::default()).await;
    pg.connect(db).await.batch_execute(sql).await.unwrap();
    let recs = poll_while(&mut t, WAIT, |r| {
        r.iter()
            .filter(|r| matches!(op(r).as_deref(), Some("c" | "u")))
            .count()
            >= n
    })
    .await;
    t.stop().await.unwrap();
    recs.into_iter()
        .filter(|r| matches!(op(r).as_deref(), Some("c" | "u")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reselect_fills_unchanged_toasted_and_null_columns() {
    let pg = PgCluster::shared();
    let db = pg.create_database("reselect").await;
    let c = pg.connect(&db).await;
    c.batch_execute(
        "CREATE TABLE t (id int PRIMARY KEY, qty int, big text, other text, note text); \
         ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL; \
         ALTER TABLE t ALTER COLUMN other SET STORAGE EXTERNAL;",
    )
    .await
    .unwrap();
    let big = "y".repeat(9000);
    let other = "z".repeat(9000);
    // Each run: a row with two TOASTed columns, then an update of another column (the
    // TOASTed values are unchanged: not in the WAL), in separate transactions.
    let dml = |id: i32| {
        format!(
            "INSERT INTO t VALUES ({id}, 1, repeat('y', 9000), repeat('z', 9000), 'n'); \
             UPDATE t SET qty = 2 WHERE id = {id};"
        )
    };

    // Without a post processor: the placeholder.
    let recs = events(pg, &db, "reselect_none", &[], &dml(1), 2).await;
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(text(after(&recs[1], "big")), PLACEHOLDER);
    assert_eq!(text(after(&recs[1], "other")), PLACEHOLDER);

    // With the reselect post processor (older `NAME.` convention): the real values.
    let recs = events(
        pg,
        &db,
        "reselect_all",
        &[("post.processors", "reselector"), ("reselector.type", RESELECT)],
        &dml(2),
        2,
    )
    .await;
    assert_eq!(recs.len(), 2, "{recs:?}");
    assert_eq!(op(&recs[1]).as_deref(), Some("u"));
    assert_eq!(text(after(&recs[1], "big")), text(&Value::String(big.clone())));
    assert_eq!(after(&recs[1], "big"), &Value::String(big.clone()));
    assert_eq!(after(&recs[1], "other"), &Value::String(other.clone()));
    assert_eq!(after(&recs[1], "qty"), &Value::Int32(2));

    // A column include list (`post.processors.NAME.` convention) limits it.
    let recs = events(
        pg,
        &db,
        "reselect_incl",
        &[
            ("post.processors", "r"),
            ("post.processors.r.type", RESELECT),
            (
                "post.processors.r.reselect.columns.include.list",
                "public\\.t:big",
            ),
        ],
        &dml(3),
        2,
    )
    .await;
    assert_eq!(after(&recs[1], "big"), &Value::String(big.clone()));
    assert_eq!(text(after(&recs[1], "other")), PLACEHOLDER);

    // Null values are read again too (reselect.null.values defaults to true): the insert
    // of a null `note` comes with the value the row holds when the event is processed;
    // with reselect.null.values=false it stays null. A row gone by then keeps its
    // placeholder (reselect.error.handling.mode=warn).
    let sql = "INSERT INTO t VALUES (4, 1, 'small', 'small', NULL); \
               UPDATE t SET note = 'later' WHERE id = 4; \
               INSERT INTO t VALUES (5, 1, repeat('y', 9000), 'small', 'n'); \
               UPDATE t SET qty = 2 WHERE id = 5; \
               DELETE FROM t WHERE id = 5;";
    let recs = events(
        pg,
        &db,
        "reselect_null",
        &[("post.processors", "r"), ("r.type", RESELECT)],
        sql,
        4,
    )
    .await;
    assert_eq!(text(after(&recs[0], "note")), "later", "insert of a null note");
    assert_eq!(text(after(&recs[1], "note")), "later");
    assert_eq!(text(after(&recs[3], "big")), PLACEHOLDER, "row 5 is gone");
    let sql = "INSERT INTO t VALUES (6, 1, 'small', 'small', NULL); \
               UPDATE t SET note = 'later' WHERE id = 6;";
    let recs = events(
        pg,
        &db,
        "reselect_nonull",
        &[
            ("post.processors", "r"),
            ("r.type", RESELECT),
            ("r.reselect.null.values", "false"),
        ],
        sql,
        2,
    )
    .await;
    assert_eq!(after(&recs[0], "note"), &Value::Null);

    // reselect.error.handling.mode=fail: a row gone fails the task, naming table and key.
    let cfg = config(
        pg,
        &db,
        "reselect_fail",
        &[
            ("snapshot.mode", "no_data"),
            ("post.processors", "r"),
            ("r.type", RESELECT),
            ("r.reselect.error.handling.mode", "fail"),
        ],
    );
    let mut t = start(&cfg, &MemOffsets::default()).await;
    c.batch_execute(
        "INSERT INTO t VALUES (7, 1, repeat('y', 9000), 'small', 'n'); \
         UPDATE t SET qty = 2 WHERE id = 7; \
         DELETE FROM t WHERE id = 7;",
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    let err = loop {
        match t.poll().await {
            Err(e) => break e,
            Ok(_) if std::time::Instant::now() < deadline => {}
            Ok(_) => panic!("the task did not fail"),
        }
    };
    t.stop().await.unwrap();
    assert!(
        err.to_string()
            .contains("Failed to find row in table public.t with key id='7'"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_post_processor_type_is_refused() {
    let pg = PgCluster::shared();
    let db = pg.create_database("reselect_bad").await;
    let cfg = config(
        pg,
        &db,
        "reselect_bad",
        &[("post.processors", "p"), ("p.type", "com.example.Other")],
    );
    let err = match try_start(&cfg, &MemOffsets::default()).await {
        Ok(_) => panic!("the task started"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("'p.type'") && err.contains("com.example.Other"),
        "{err}"
    );
}
