//! Debezium's PostgreSQL connector on Ferry and on the real Kafka Connect 4.3 with Debezium
//! 3.6.3, beyond the defaults: the value handling modes (decimal, time precision, binary,
//! interval, hstore, hstore[] and bit(n)[]) two ways each, every REPLICA IDENTITY (DEFAULT with an unchanged
//! TOASTed column and a primary-key update, FULL, NOTHING, USING INDEX on a table without
//! a primary key) and a partitioned table captured with its partitions, a row moving
//! between them included, and through a `publish_via_partition_root` publication. Snapshot and streamed events are compared record by record.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason (docs/compatibility.md).
/// Why a `bit(n)[]` column differs.
const BIT_ARRAYS: &str = "deliberate: Ferry writes bit(n)[] as an array of io.debezium.data.Bits; \
     Debezium 3.6.3 builds the schema of bit(n) for it (one Bits field) and cannot convert the \
     array into it, so its value is always null";

const KNOWN: &[Known] = &[
    Known {
        step: "modes: string, connect, hex, string, map",
        path: "#.value.schema.fields[\"before\"].fields[\"c_bits\"]*",
        why: BIT_ARRAYS,
    },
    Known {
        step: "modes: string, connect, hex, string, map",
        path: "#.value.schema.fields[\"after\"].fields[\"c_bits\"]*",
        why: BIT_ARRAYS,
    },
    Known {
        step: "modes: string, connect, hex, string, map",
        path: "#.value.payload.after.c_bits*",
        why: BIT_ARRAYS,
    },
    Known {
        step: "modes: double, adaptive_time_microseconds, base64-url-safe, numeric, json",
        path: "#.value.schema.fields[\"before\"].fields[\"c_bits\"]*",
        why: BIT_ARRAYS,
    },
    Known {
        step: "modes: double, adaptive_time_microseconds, base64-url-safe, numeric, json",
        path: "#.value.schema.fields[\"after\"].fields[\"c_bits\"]*",
        why: BIT_ARRAYS,
    },
    Known {
        step: "modes: double, adaptive_time_microseconds, base64-url-safe, numeric, json",
        path: "#.value.payload.after.c_bits*",
        why: BIT_ARRAYS,
    },
];

const SCHEMA: &str = "
    CREATE EXTENSION IF NOT EXISTS hstore;
    CREATE TABLE modes (
        id INT PRIMARY KEY,
        c_numeric NUMERIC(12,4),
        c_free NUMERIC,
        c_ts TIMESTAMP(6),
        c_tstz TIMESTAMPTZ,
        c_time TIME(3),
        c_date DATE,
        c_bytes BYTEA,
        c_interval INTERVAL,
        c_hstore HSTORE,
        c_money MONEY,
        c_hstores HSTORE[],
        c_bits BIT(3)[]
    );
    CREATE TABLE ri_default (id INT PRIMARY KEY, v TEXT, big TEXT);
    CREATE TABLE ri_full (id INT PRIMARY KEY, v TEXT);
    ALTER TABLE ri_full REPLICA IDENTITY FULL;
    CREATE TABLE ri_nothing (id INT PRIMARY KEY, v TEXT);
    ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
    CREATE TABLE ri_index (id INT NOT NULL, code TEXT NOT NULL, v TEXT);
    CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
    ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
    CREATE TABLE parted (id INT, region TEXT, v TEXT, PRIMARY KEY (id, region))
        PARTITION BY LIST (region);
    CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
    CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');";

fn modes_row(i: i32) -> String {
    format!(
        "({i}, {i}.1234, {i}.000001, TIMESTAMP '2024-02-29 23:59:59.123456' + interval '{i} hours', \
         TIMESTAMPTZ '1969-12-31 23:59:59.5+00' + interval '{i} minutes', TIME '23:59:59.999', \
         DATE '1970-01-01' - {i}, '\\x00ff{i:02x}', interval '1 year 2 months {i} days 04:05:06.789', \
         'k=>{i}, n=>NULL', {i}.99, ARRAY['a=>{i}'::hstore, NULL], ARRAY[B'101', B'01{b}'::bit(3)])",
        b = i % 2
    )
}

/// A text PostgreSQL stores out of line (TOAST): long and poorly compressible.
const BIG: &str = "(SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handling_modes_replica_identities_and_partitions_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("modes").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();
    let rows: Vec<String> = (1..=5).map(modes_row).collect();
    sql.batch_execute(&format!(
        "INSERT INTO modes VALUES {};
         INSERT INTO ri_default SELECT g, 'v' || g, {BIG} FROM generate_series(1, 3) g;
         INSERT INTO ri_full VALUES (1, 'a'), (2, 'b'), (3, 'c');
         INSERT INTO ri_nothing VALUES (1, 'a'), (2, 'b');
         INSERT INTO ri_index VALUES (1, 'a', 'x'), (2, 'b', 'x');
         INSERT INTO parted VALUES (1, 'eu', 'a'), (2, 'us', 'b');",
        rows.join(",")
    ))
    .await
    .unwrap();

    let mut pair = Pair::start("pgmodes", &[]);
    // A publication through the partitioned root, made by hand as Debezium's docs advise.
    for who in ["ferry", "connect"] {
        sql.batch_execute(&format!(
            "CREATE PUBLICATION {who}_pr_pub FOR TABLE parted WITH (publish_via_partition_root = true)"
        ))
        .await
        .unwrap();
    }
    let names = ["m1", "m2", "ri", "pr"];
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        for name in names {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }
    let settings = |name: &str| -> Value {
        let mut settings = match name {
            "m1" => json!({
                "table.include.list": "public.modes",
                "decimal.handling.mode": "string",
                "time.precision.mode": "connect",
                "binary.handling.mode": "hex",
                "interval.handling.mode": "string",
                "hstore.handling.mode": "map",
            }),
            "m2" => json!({
                "table.include.list": "public.modes",
                "decimal.handling.mode": "double",
                "time.precision.mode": "adaptive_time_microseconds",
                "binary.handling.mode": "base64-url-safe",
                "interval.handling.mode": "numeric",
                "hstore.handling.mode": "json",
            }),
            "pr" => json!({
                "table.include.list": "public.parted",
                "publication.autocreate.mode": "disabled",
            }),
            _ => json!({
                "table.include.list": "public.ri_.*,public.parted.*",
                "skipped.operations": "none",
            }),
        };
        settings["topic.prefix"] = json!(name);
        settings
    };
    for name in names {
        postgres::create_on_both(&mut pair, name, &pg, &db, &settings(name)).await;
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }

    let rows: Vec<String> = (6..=10).map(modes_row).collect();
    sql.batch_execute(&format!(
        "INSERT INTO modes VALUES {};
         UPDATE modes SET c_numeric = -c_numeric, c_hstore = 'k=>changed' WHERE id <= 3;
         DELETE FROM modes WHERE id = 10;
         UPDATE ri_default SET v = 'changed' WHERE id = 1;
         UPDATE ri_default SET id = 100 WHERE id = 2;
         DELETE FROM ri_default WHERE id = 3;
         UPDATE ri_full SET v = 'x' WHERE id = 1;
         DELETE FROM ri_full WHERE id = 2;
         INSERT INTO ri_nothing VALUES (3, 'c');
         INSERT INTO ri_index VALUES (3, 'c', 'z');
         UPDATE ri_index SET v = 'y' WHERE code = 'a';
         UPDATE ri_index SET code = 'bb' WHERE code = 'b';
         DELETE FROM ri_index WHERE code = 'c';
         INSERT INTO parted VALUES (3, 'eu', 'c');
         UPDATE parted SET v = 'w' WHERE id = 1;
         UPDATE parted SET region = 'us' WHERE id = 1;
         DELETE FROM parted WHERE id = 2;",
        rows.join(",")
    ))
    .await
    .unwrap();

    // 5 r + 5 c + 3 u + d and tombstone.
    pair.compare_topic("modes: string, connect, hex, string, map", "m1.public.modes", 15);
    pair.compare_topic(
        "modes: double, adaptive_time_microseconds, base64-url-safe, numeric, json",
        "m2.public.modes",
        15,
    );
    // 3 r; u with the TOASTed column unchanged; key change: d, tombstone, c; d, tombstone.
    pair.compare_topic(
        "REPLICA IDENTITY DEFAULT, TOAST, primary-key update",
        "ri.public.ri_default",
        9,
    );
    pair.compare_topic("REPLICA IDENTITY FULL", "ri.public.ri_full", 6);
    pair.compare_topic("REPLICA IDENTITY NOTHING", "ri.public.ri_nothing", 3);
    // No primary key: no record key. 2 r, c, u, u, d.
    pair.compare_topic(
        "REPLICA IDENTITY USING INDEX, no primary key",
        "ri.public.ri_index",
        6,
    );
    // 1 r, c, u, then the row moves to parted_us: d and tombstone here, c there.
    pair.compare_topic("partition parted_eu", "ri.public.parted_eu", 5);
    pair.compare_topic("partition parted_us", "ri.public.parted_us", 4);
    // The partitioned parent, captured too: its snapshot reads every partition's rows.
    pair.compare_topic("partitioned parent", "ri.public.parted", 2);
    // publish_via_partition_root: every change under the root's name. 2 r, c, u, the move
    // (d, tombstone, c), d and tombstone.
    pair.compare_topic("publish_via_partition_root", "pr.public.parted", 9);

    pair.report.finish("postgres modes", KNOWN);
}
