//! Debezium's column rules on Ferry and on the real Kafka Connect 4.3 with Debezium 3.6.3:
//! `column.mask.with.N.chars`, `column.mask.hash[.v2].ALGORITHM.with.salt.SALT`,
//! `column.truncate.to.N.chars`, `column.propagate.source.type`,
//! `datatype.propagate.source.type` and `money.fraction.digits`, over a snapshot and
//! streamed inserts, updates and deletes (nulls, non-ASCII text, a rule on a non-string
//! column, a truncation that cannot happen, two rules matching one column) and
//! `include.schema.comments`; and `snapshot.select.statement.overrides` on a second table.

use ferry_differential::pair::Pair;
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::Answer;
use serde_json::json;

/// Differences between Ferry and Debezium 3.6.3 that are known, each with its reason.
const KNOWN: &[Known] = &[];

const SCHEMA: &str = "
    CREATE TABLE people (
        id INT PRIMARY KEY,
        name TEXT,
        nick VARCHAR(20),
        age INT,
        code CHAR(6),
        email VARCHAR(100),
        email_v2 VARCHAR(40),
        bio TEXT,
        short VARCHAR(3),
        amount NUMERIC(10,2),
        created TIMESTAMP(3),
        price MONEY,
        note TEXT
    );
    COMMENT ON COLUMN people.note IS 'free text';
    CREATE TABLE orders (id INT PRIMARY KEY, item TEXT, qty INT);
    INSERT INTO orders SELECT g, 'item ' || g, g * 10 FROM generate_series(1, 5) g;";

fn row(i: i32) -> String {
    let name = if i % 4 == 0 {
        "NULL".to_string()
    } else {
        format!("'Jöhn Dœ {i}'")
    };
    format!(
        "({i}, {name}, 'nick{i}', {age}, 'c{i:04}', 'person{i}@example.com', 'v2-{i}@example.com', \
         'a biography of person {i} – ünïcode', 'ab', {i}.25, TIMESTAMP '2024-05-06 07:08:09.123' + interval '{i} seconds', \
         {i}.5, 'note {i}')",
        age = 20 + i,
    )
}

fn tasks_running(a: &Answer) -> bool {
    a.status == 200
        && a.body["connector"]["state"] == "RUNNING"
        && a.body["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING"))
}

fn connector(slot: &str, pg: &PgCluster, db: &str) -> String {
    json!({"name": "rules", "config": {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1",
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db,
        "plugin.name": "pgoutput",
        "slot.name": format!("{slot}_rules"),
        "publication.name": format!("{slot}_rules_pub"),
        "topic.prefix": "cr",
        "table.include.list": "public.people,public.orders",
        // The snapshot of orders: only even ids, without `item`, columns in another order.
        "snapshot.select.statement.overrides": "public.orders",
        "snapshot.select.statement.overrides.public.orders": "SELECT qty, id FROM public.orders WHERE id % 2 = 0",
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        // Two rules match `name`: the truncation comes first in Debezium's order.
        "column.truncate.to.5.chars": "public.people.bio,public.people.short,public.people.name",
        "column.mask.with.4.chars": "public\\.people\\.(name|nick|age)",
        "column.mask.hash.SHA-256.with.salt.CzQMA0cB5K": "public.people.code,PUBLIC.PEOPLE.EMAIL",
        "column.mask.hash.v2.SHA-256.with.salt.pepper": "public.people.email_v2",
        "column.propagate.source.type": "public.people.amount,public.people.created",
        "datatype.propagate.source.type": ".+\\.money,.+\\.text",
        "money.fraction.digits": "3",
        // Comments become docs and, with propagation, __debezium.source.column.comment.
        "include.schema.comments": "true",
    }})
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn column_rules_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("colrules").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();
    let rows: Vec<String> = (1..=6).map(row).collect();
    sql.batch_execute(&format!("INSERT INTO people VALUES {}", rows.join(",")))
        .await
        .unwrap();

    let mut pair = Pair::start("pgcolrules", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        side.alias(format!("{who}_rules_pub"), "<publication>");
        side.alias(format!("{who}_rules"), "<slot>");
    }
    pair.exchange_each(
        "POST /connectors (column rules)",
        "POST",
        "/connectors",
        &connector("ferry", &pg, &db),
        &connector("connect", &pg, &db),
    )
    .await;
    pair.wait_both("/connectors/rules/status", tasks_running).await;

    let rows: Vec<String> = (7..=12).map(row).collect();
    sql.batch_execute(&format!(
        "INSERT INTO people VALUES {};
         UPDATE people SET nick = NULL, bio = 'short', email = NULL, price = 1234.567 WHERE id IN (2, 8);
         UPDATE people SET note = NULL, code = 'Ωmega' WHERE id = 9;
         DELETE FROM people WHERE id IN (3, 10);
         INSERT INTO orders VALUES (6, 'item 6', 60);",
        rows.join(",")
    ))
    .await
    .unwrap();

    // 6 r + 6 c + 3 u + 2 × (d, tombstone).
    pair.compare_topic("column rules", "cr.public.people", 6 + 6 + 3 + 4);
    // 2 r (ids 2 and 4, item null) + 1 c.
    pair.compare_topic("snapshot.select.statement.overrides", "cr.public.orders", 3);
    pair.report.finish("postgres column rules", KNOWN);
    assert!(
        pair.report.records >= 22,
        "compared only {} records",
        pair.report.records
    );
}
