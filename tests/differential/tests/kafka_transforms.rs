//! Kafka Connect's own transforms and predicates behind Debezium's PostgreSQL connector, on
//! Ferry and on the real Kafka Connect 4.3: one chain after ExtractNewRecordState (fields
//! inserted, renamed, dropped, masked and cast, a timestamp formatted, a header inserted, the
//! key rebuilt from the value, the topic rewritten), one on the raw envelope (flattened,
//! schema renamed, a header copied from a field and another dropped, the key hoisted, a
//! table filtered out by a topic predicate, a header copied only where a predicate holds,
//! which makes HeaderFrom fail the task on a tombstone as in Connect).

use ferry_differential::pair::Pair;
use ferry_differential::postgres::{self, tasks_running};
use ferry_differential::report::Known;
use ferry_test_support::postgres::PgCluster;
use serde_json::{json, Value};

/// Differences between Ferry and Kafka Connect 4.3 that are known, each with its reason.
const KNOWN: &[Known] = &[];

const SCHEMA: &str = "
    CREATE TABLE items (
        id INT PRIMARY KEY,
        name TEXT NOT NULL,
        price NUMERIC(10,2),
        qty INT,
        created TIMESTAMP(3),
        flag BOOLEAN,
        note TEXT
    );
    CREATE TABLE skipme (id INT PRIMARY KEY, v TEXT);";

fn item(i: i32) -> String {
    format!(
        "({i}, 'item {i}', {i}.25, {}, TIMESTAMP '2024-03-10 01:02:03.456' + interval '{i} days', {}, 'note {i}')",
        i * 7,
        i % 2 == 0
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_transforms_and_predicates_match_kafka_connect() {
    let pg = PgCluster::start();
    let db = pg.create_database("smts").await;
    let sql = pg.connect(&db).await;
    sql.batch_execute(SCHEMA).await.unwrap();
    let rows: Vec<String> = (1..=3).map(item).collect();
    sql.batch_execute(&format!(
        "INSERT INTO items VALUES {}; INSERT INTO skipme VALUES (1, 'a');",
        rows.join(",")
    ))
    .await
    .unwrap();

    let mut pair = Pair::start("kafkasmts", &[]);
    let names = ["ka", "kb"];
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
            "ka" => json!({
                "table.include.list": "public.items",
                "transforms": "unwrap,insert,rename,mask,cast,ts,hdr,vtk,route",
                "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
                "transforms.unwrap.delete.tombstone.handling.mode": "drop",
                "transforms.insert.type": "org.apache.kafka.connect.transforms.InsertField$Value",
                "transforms.insert.static.field": "origin",
                "transforms.insert.static.value": "pg",
                "transforms.insert.topic.field": "topic_name",
                "transforms.rename.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
                "transforms.rename.renames": "name:title",
                "transforms.rename.exclude": "note",
                "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
                "transforms.mask.fields": "qty",
                "transforms.cast.type": "org.apache.kafka.connect.transforms.Cast$Value",
                "transforms.cast.spec": "price:float64,flag:int8",
                "transforms.ts.type": "org.apache.kafka.connect.transforms.TimestampConverter$Value",
                "transforms.ts.field": "created",
                "transforms.ts.target.type": "string",
                "transforms.ts.format": "yyyy-MM-dd HH:mm:ss.SSS",
                "transforms.hdr.type": "org.apache.kafka.connect.transforms.InsertHeader",
                "transforms.hdr.header": "source-system",
                "transforms.hdr.value.literal": "inventory",
                "transforms.vtk.type": "org.apache.kafka.connect.transforms.ValueToKey",
                "transforms.vtk.fields": "id,title",
                "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                "transforms.route.regex": "([^.]+)\\.public\\.(.*)",
                "transforms.route.replacement": "$1-$2",
            }),
            _ => json!({
                "table.include.list": "public.items,public.skipme",
                "transforms": "skip,flat,meta,copy,drop,hoist",
                "predicates": "isSkipme,hasRun",
                "predicates.isSkipme.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                "predicates.isSkipme.pattern": ".*\\.skipme",
                "predicates.hasRun.type": "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
                "predicates.hasRun.name": "__debezium.context.runId",
                "transforms.skip.type": "org.apache.kafka.connect.transforms.Filter",
                "transforms.skip.predicate": "isSkipme",
                "transforms.flat.type": "org.apache.kafka.connect.transforms.Flatten$Value",
                "transforms.flat.delimiter": "_",
                "transforms.meta.type": "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
                "transforms.meta.schema.name": "inventory.ItemChange",
                "transforms.meta.schema.version": "3",
                "transforms.copy.type": "org.apache.kafka.connect.transforms.HeaderFrom$Value",
                "transforms.copy.fields": "op",
                "transforms.copy.headers": "operation",
                "transforms.copy.operation": "copy",
                "transforms.copy.predicate": "hasRun",
                "transforms.drop.type": "org.apache.kafka.connect.transforms.DropHeaders",
                "transforms.drop.headers": "__debezium.context.runId,__debezium.context.taskId",
                "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Key",
                "transforms.hoist.field": "pk",
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

    let rows: Vec<String> = (4..=5).map(item).collect();
    sql.batch_execute(&format!(
        "INSERT INTO items VALUES {};
         UPDATE items SET price = price * 2, flag = NOT flag WHERE id = 1;
         DELETE FROM items WHERE id = 2;
         INSERT INTO skipme VALUES (2, 'b');",
        rows.join(",")
    ))
    .await
    .unwrap();

    // 3 r, 2 c, 1 u; the delete dropped by ExtractNewRecordState.
    pair.compare_topic("after ExtractNewRecordState", "ka-items", 6);
    // 3 r, 2 c, 1 u, d. The delete's tombstone carries the run id header, so HeaderFrom
    // runs on it and, with no schema, requires a map: the task fails there, on both.
    pair.compare_topic("on the envelope", "kb.public.items", 7);
    pair.wait_both("/connectors/kb/status", |a| {
        a.body["tasks"][0]["state"] == "FAILED"
    })
    .await;
    pair.exchange(
        "GET /connectors/kb/status (HeaderFrom on a tombstone)",
        "GET",
        "/connectors/kb/status",
        None,
    )
    .await;

    pair.report.finish("kafka transforms", KNOWN);
}
