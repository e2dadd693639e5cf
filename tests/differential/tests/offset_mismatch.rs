//! A replication slot created again while the connector was stopped, on Ferry and on the
//! real Kafka Connect 4.3 with Debezium 3.6.3 (each with its own slot): the new slot
//! restarts after the stored offset, so both refuse to resume with `snapshot.mode=initial`
//! (the change made in between is gone) and both snapshot again once the connector is
//! reconfigured with `snapshot.mode=when_needed`.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, connector, tasks_failed, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::Answer;
use serde_json::{json, Value};

const GONE: &str = "GET /connectors/om/status (slot created again)";

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason (docs/compatibility.md).
const KNOWN: &[Known] = &[Known {
    step: GONE,
    path: "$.tasks[\"0\"].trace",
    why: "Ferry's trace of a task that could not start begins with 'The source task could not start' \
          and names the stored and the slot's LSNs where Debezium prints its offset context; both say \
          the position is 'no longer available on the server' (checked below)",
}];

/// An offsets answer whose (only) offset holds `lsn_proc`: a streamed change is stored.
fn streamed_offset_stored(a: &Answer) -> bool {
    a.status == 200
        && a.body["offsets"]
            .as_array()
            .is_some_and(|o| o.iter().any(|o| !o["offset"]["lsn_proc"].is_null()))
}

fn stopped(a: &Answer) -> bool {
    a.status == 200 && a.body["connector"]["state"] == "STOPPED"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recreated_slot_stops_the_resume_and_when_needed_snapshots_again_as_in_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("mismatch").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(
        "CREATE TABLE gone (id INT PRIMARY KEY, note TEXT); INSERT INTO gone VALUES (1, 'before');",
    )
    .await
    .unwrap();

    let mut pair = Pair::start("pgmismatch", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_om_pub"), "<publication>");
        side.alias(format!("{who}_om"), "<slot>");
    }
    let settings = |mode: &str| -> Value {
        json!({
            "topic.prefix": "om",
            "table.include.list": "public.gone",
            "snapshot.mode": mode,
        })
    };
    postgres::create_on_both(&mut pair, "om", &pg, &db, &settings("initial")).await;
    pair.wait_both("/connectors/om/status", tasks_running).await;
    pair.compare_topic("snapshot", "om.public.gone", 1);
    sql.batch_execute("INSERT INTO gone VALUES (2, 'streamed')")
        .await
        .unwrap();
    pair.compare_topic("streamed", "om.public.gone", 2);
    pair.wait_both("/connectors/om/offsets", streamed_offset_stored)
        .await;

    pair.exchange("PUT /connectors/om/stop", "PUT", "/connectors/om/stop", None)
        .await;
    pair.wait_both("/connectors/om/status", stopped).await;
    sql.batch_execute("INSERT INTO gone VALUES (3, 'while stopped')")
        .await
        .unwrap();
    pg.recreate_logical_slot(&db, "ferry_om").await;
    pg.recreate_logical_slot(&db, "connect_om").await;

    pair.exchange("PUT /connectors/om/resume", "PUT", "/connectors/om/resume", None)
        .await;
    pair.wait_both("/connectors/om/status", tasks_failed).await;
    let (f, c) = pair.exchange(GONE, "GET", "/connectors/om/status", None).await;
    for (side, answer) in [("ferry", &f), ("connect", &c)] {
        let trace = answer.body["tasks"][0]["trace"].as_str().unwrap_or_default();
        assert!(
            trace.contains("no longer available on the server"),
            "{side}: {trace}"
        );
    }

    // when_needed: the stored offsets are dropped and the table is read again.
    let config_of = |who: &str| -> String {
        let body: Value =
            serde_json::from_str(&connector("om", who, &pg, &db, &settings("when_needed"))).unwrap();
        body["config"].to_string()
    };
    pair.exchange_each(
        "PUT /connectors/om/config (when_needed)",
        "PUT",
        "/connectors/om/config",
        &config_of("ferry"),
        &config_of("connect"),
    )
    .await;
    pair.wait_both("/connectors/om/status", tasks_running).await;
    pair.compare_topic("when_needed: a new snapshot", "om.public.gone", 5);
    sql.batch_execute("UPDATE gone SET note = 'after' WHERE id = 3")
        .await
        .unwrap();
    pair.compare_topic("streaming after the new snapshot", "om.public.gone", 6);

    pair.report.finish("postgres offset mismatch", KNOWN);
    assert!(
        pair.report.records >= 14,
        "compared only {} records",
        pair.report.records
    );
}
