//! Debezium's SchemaChangeEventFilter, ExtractSchemaToNewRecord, VectorToJsonConverter,
//! GeometryFormatTransformer and SwapGeometryCoordinates on Ferry and on the real Kafka
//! Connect 4.3 with Debezium 3.6.3: their definitions, a validation of a chain of all five,
//! and streamed PostgreSQL changes through each (ExtractSchemaToNewRecord with
//! `column.propagate.source.type` and column comments, and failing the task without it).
//!
//! The PostgreSQL connector emits no schema change events, no vectors (no pgvector here) and
//! no `io.debezium.data.geometry.Geometry` values (no PostGIS; a `point` column is a
//! `Point`, which these transforms leave alone), so on its records the filter, the vector
//! and the two geometry transforms must change nothing: what is compared is that they do
//! exactly that, as Debezium's rebuild their values and schemas. Their own logic is
//! unit-tested in `crates/ferry-debezium-transforms`.

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_failed, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

const CLASSES: &[&str] = &[
    "io.debezium.transforms.SchemaChangeEventFilter",
    "io.debezium.transforms.ExtractSchemaToNewRecord",
    "io.debezium.transforms.VectorToJsonConverter",
    "io.debezium.transforms.GeometryFormatTransformer",
    "io.debezium.transforms.SwapGeometryCoordinates",
];

const VALIDATE: &str = "PUT validate (five transforms)";

/// Differences between Ferry and Debezium 3.6.3 on Connect 4.3 that are known, each with
/// its reason.
const KNOWN: &[Known] = &[];

const SCHEMA: &str = "
    CREATE TABLE things (
        id INT PRIMARY KEY,
        name VARCHAR(20),
        price NUMERIC(10,2),
        note TEXT,
        pt POINT,
        created TIMESTAMPTZ
    );
    COMMENT ON COLUMN things.note IS 'free text';
    CREATE TABLE loose (LIKE things);
    ALTER TABLE loose DROP COLUMN pt, REPLICA IDENTITY FULL;";

type Settings = fn() -> Value;

fn things(prefix: &str, transforms: Value) -> Value {
    let mut config = json!({
        "topic.prefix": prefix,
        "table.include.list": "public.things",
    });
    for (k, v) in transforms.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

/// Connector name, topic prefix and settings; each writes `PREFIX.public.things`
/// (schemaloose `esl.public.loose`).
const CONNECTORS: &[(&str, &str, Settings)] = &[
    ("schemafilter", "scf", || {
        things(
            "scf",
            json!({
                "transforms": "filter",
                "transforms.filter.type": "io.debezium.transforms.SchemaChangeEventFilter",
                "transforms.filter.schema.change.event.exclude.list": "CREATE,ALTER",
            }),
        )
    }),
    ("schemarecord", "esr", || {
        things(
            "esr",
            json!({
                "column.propagate.source.type": ".*",
                "include.schema.comments": "true",
                "transforms": "schema",
                "transforms.schema.type": "io.debezium.transforms.ExtractSchemaToNewRecord",
            }),
        )
    }),
    ("schemaloose", "esl", || {
        json!({
            "topic.prefix": "esl",
            "table.include.list": "public.loose",
            "column.propagate.source.type": ".*",
            "transforms": "schema",
            "transforms.schema.type": "io.debezium.transforms.ExtractSchemaToNewRecord",
        })
    }),
    ("vector", "vec", || {
        things(
            "vec",
            json!({
                "transforms": "vector",
                "transforms.vector.type": "io.debezium.transforms.VectorToJsonConverter",
            }),
        )
    }),
    ("geometry", "geo", || {
        things(
            "geo",
            json!({
                "transforms": "format,swap",
                "transforms.format.type": "io.debezium.transforms.GeometryFormatTransformer",
                "transforms.format.format": "ewkb",
                "transforms.swap.type": "io.debezium.transforms.SwapGeometryCoordinates",
                "transforms.swap.srids": "4326, 2154",
            }),
        )
    }),
];

/// Per topic: 2 c + 1 u + (d, tombstone).
const RECORDS: usize = 2 + 1 + 2;

/// ExtractSchemaToNewRecord without propagated source types fails on the first event.
fn without_source_types() -> Value {
    things(
        "esb",
        json!({
            "transforms": "schema",
            "transforms.schema.type": "io.debezium.transforms.ExtractSchemaToNewRecord",
        }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_debezium_transforms_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("dbzsmt").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();

    let mut pair = Pair::start("pgdbzsmt", &[]);
    for (side, who) in [
        (&mut pair.ferry.side, "ferry"),
        (&mut pair.connect.side, "connect"),
    ] {
        for name in CONNECTORS.iter().map(|c| c.0).chain(["schemabad"]) {
            side.alias(format!("{who}_{name}_pub"), "<publication>");
            side.alias(format!("{who}_{name}"), "<slot>");
        }
    }

    for class in CLASSES {
        let path = format!("/connector-plugins/{class}/config");
        pair.exchange(&format!("GET {path}"), "GET", &path, None).await;
    }
    let chain = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "name": "chain",
        "topic": "t",
        "file": "/tmp/x",
        "transforms": "filter,schema,vector,format,swap",
        "transforms.filter.type": CLASSES[0],
        "transforms.filter.schema.change.event.exclude.list": "DROP",
        "transforms.schema.type": CLASSES[1],
        "transforms.vector.type": CLASSES[2],
        "transforms.format.type": CLASSES[3],
        "transforms.format.format": "wkb",
        "transforms.swap.type": CLASSES[4],
        "transforms.swap.srids": "4326",
    });
    pair.exchange(
        VALIDATE,
        "PUT",
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate",
        Some(&chain.to_string()),
    )
    .await;

    let all = CONNECTORS
        .iter()
        .map(|c| (c.0, c.2))
        .chain([("schemabad", without_source_types as Settings)]);
    for (name, config) in all {
        postgres::create_on_both(&mut pair, name, &pg, &db, &config()).await;
    }
    for name in CONNECTORS.iter().map(|c| c.0).chain(["schemabad"]) {
        pair.wait_both(&format!("/connectors/{name}/status"), tasks_running)
            .await;
    }

    for tx in [
        "INSERT INTO things VALUES
           (1, 'one', 1.25, 'first', '(1.5,-2.25)', '2024-02-03 04:05:06.789+00'),
           (2, NULL, NULL, NULL, NULL, NULL)",
        "UPDATE things SET name = 'uno', pt = '(0,0)' WHERE id = 1",
        "DELETE FROM things WHERE id = 2",
        "INSERT INTO loose SELECT id, name, price, note, created FROM things
           UNION ALL SELECT 7, 'seven', 7, NULL, NULL",
        "UPDATE loose SET note = 'changed' WHERE id = 7",
        "DELETE FROM loose WHERE id = 1",
    ] {
        sql.batch_execute(tx).await.unwrap();
    }

    for (name, prefix, _) in CONNECTORS {
        let table = if *name == "schemaloose" { "loose" } else { "things" };
        let topic = format!("{prefix}.public.{table}");
        // loose: 2 c + 1 u + 1 d (a keyless delete has no tombstone to wait for).
        let n = if table == "loose" { 4 } else { RECORDS };
        pair.compare_topic(&format!("{name} {topic}"), &topic, n);
    }
    for name in CONNECTORS.iter().map(|c| c.0) {
        let path = format!("/connectors/{name}/status");
        pair.exchange(&format!("GET {path}"), "GET", &path, None).await;
    }
    let path = "/connectors/schemabad/status";
    pair.wait_both(path, tasks_failed).await;
    pair.exchange("GET /connectors/schemabad/status (FAILED)", "GET", path, None)
        .await;

    pair.report.finish("more debezium transforms", KNOWN);
    assert!(
        pair.report.records >= (CONNECTORS.len() - 2) * RECORDS + 4,
        "compared only {} records",
        pair.report.records
    );
}
