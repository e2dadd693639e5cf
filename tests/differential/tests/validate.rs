//! The PostgreSQL connector's settings on Ferry and on the real Kafka Connect 4.3 with
//! Debezium 3.6.3: `GET /connector-plugins/.../config` of PostgresConnector and of the
//! Outbox EventRouter, and `PUT .../config/validate` of the seed's outbox connector, of a
//! config with bad values (an unknown enum value, an out-of-range integer, a value that is
//! not a boolean, no topic.prefix), of one setting what Ferry does not support and of a
//! wrong password (the connection test), which both also refuse at creation.

use ferry_differential::pair::Pair;
use ferry_differential::report::Known;
use std::time::Duration;

use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::try_call;
use serde_json::{json, Value};

const POSTGRES: &str = "io.debezium.connector.postgresql.PostgresConnector";
const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";

const GET_POSTGRES: &str = "GET PostgresConnector/config";
const SEED: &str = "PUT validate (seed outbox config)";
const BAD: &str = "PUT validate (bad values)";
const UNSUPPORTED: &str = "PUT validate (settings Ferry does not support)";
const WRONG_PASSWORD: &str = "PUT validate (wrong password)";

const OUTBOX_CLEANUP: &str = "deliberate: Ferry's own outbox.cleanup.* settings (docs/outbox-cleanup.md), \
     listed after Debezium's";
const NOT_SUPPORTED: &str = "deliberate: Ferry refuses a setting it does not implement when it is set to \
     anything but its default (xmin.fetch.interval.ms), rather than accept it and behave otherwise; \
     Debezium accepts it";
const DRIVER_MESSAGE: &str = "the driver's own text after Debezium's prefix 'Error while validating connector config: ': \
     pgjdbc says 'FATAL: password authentication failed for user \"postgres\"', Ferry (tokio-postgres) \
     'connecting to HOST:PORT/DB: FATAL: password authentication failed for user \"postgres\" (SQLSTATE 28P01)' \
     (docs/compatibility.md)";

/// Differences between Ferry and Debezium 3.6.3 that are known, each with its reason.
const KNOWN: &[Known] = &[
    Known {
        step: GET_POSTGRES,
        path: "$[\"outbox.cleanup.*\"]",
        why: OUTBOX_CLEANUP,
    },
    Known {
        step: SEED,
        path: "$.configs[\"outbox.cleanup.*\"]",
        why: OUTBOX_CLEANUP,
    },
    Known {
        step: BAD,
        path: "$.configs[\"outbox.cleanup.*\"]",
        why: OUTBOX_CLEANUP,
    },
    Known {
        step: UNSUPPORTED,
        path: "$.configs[\"outbox.cleanup.*\"]",
        why: OUTBOX_CLEANUP,
    },
    Known {
        step: UNSUPPORTED,
        path: "$.configs[\"xmin.fetch.interval.ms\"].value.errors[0]",
        why: NOT_SUPPORTED,
    },
    Known {
        step: UNSUPPORTED,
        path: "$.error_count",
        why: NOT_SUPPORTED,
    },
    Known {
        step: WRONG_PASSWORD,
        path: "$.configs[\"outbox.cleanup.*\"]",
        why: OUTBOX_CLEANUP,
    },
    Known {
        step: WRONG_PASSWORD,
        path: "$.configs[\"database.hostname\"].value.errors[0]",
        why: DRIVER_MESSAGE,
    },
];

/// The seed's outbox connector, on this test's database.
fn seed(pg: &PgCluster, db: &str) -> Value {
    json!({
        "name": "outbox-connector",
        "connector.class": POSTGRES,
        "database.hostname": "127.0.0.1",
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db,
        "topic.prefix": "pg-server-1",
        "plugin.name": "pgoutput",
        "table.include.list": "public.outbox",
        "tombstones.on.delete": "false",
        "transforms": "outboxEventRouter",
        "transforms.outboxEventRouter.type": EVENT_ROUTER,
        "transforms.outboxEventRouter.route.by.field": "aggregate_type",
        "transforms.outboxEventRouter.route.topic.replacement": "${routedByValue}_events",
        "transforms.outboxEventRouter.table.field.event.key": "aggregate_id",
        "transforms.outboxEventRouter.table.field.event.payload": "payload",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connector_settings_match_debezium() {
    let pg = PgCluster::start();
    let db = pg.create_database("validate").await;
    let mut pair = Pair::start("pgvalidate", &[]);

    pair.exchange(
        GET_POSTGRES,
        "GET",
        &format!("/connector-plugins/{POSTGRES}/config"),
        None,
    )
    .await;
    pair.exchange(
        "GET EventRouter/config",
        "GET",
        &format!("/connector-plugins/{EVENT_ROUTER}/config"),
        None,
    )
    .await;

    let validate = format!("/connector-plugins/{POSTGRES}/config/validate");
    let (f, c) = pair
        .exchange(SEED, "PUT", &validate, Some(&seed(&pg, &db).to_string()))
        .await;
    assert_eq!((f.status, c.status), (200, 200));
    assert_eq!(
        c.body["error_count"], 0,
        "Debezium finds the seed valid: {}",
        c.body
    );
    assert_eq!(f.body["error_count"], 0, "Ferry finds the seed valid: {}", f.body);

    let mut bad = seed(&pg, &db);
    let bad = bad.as_object_mut().unwrap();
    bad.remove("topic.prefix");
    bad.insert("snapshot.mode".into(), json!("sometimes"));
    bad.insert("max.batch.size".into(), json!("0"));
    bad.insert("heartbeat.interval.ms".into(), json!("-5"));
    bad.insert("provide.transaction.metadata".into(), json!("maybe"));
    bad.insert("decimal.handling.mode".into(), json!("PRECISE"));
    let (f, c) = pair
        .exchange(
            BAD,
            "PUT",
            &validate,
            Some(&Value::Object(bad.clone()).to_string()),
        )
        .await;
    assert_eq!(c.body["error_count"], 5, "Debezium: {}", c.body);
    assert_eq!(f.body["error_count"], 5, "Ferry: {}", f.body);

    let mut unsupported = seed(&pg, &db);
    unsupported["xmin.fetch.interval.ms"] = json!("1000");
    // A supported setting among them: the reselect post processor is accepted by both.
    unsupported["post.processors"] = json!("reselector");
    unsupported["reselector.type"] = json!("io.debezium.processors.reselect.ReselectColumnsPostProcessor");
    unsupported["snapshot.max.threads"] = json!("4");
    let (f, c) = pair
        .exchange(UNSUPPORTED, "PUT", &validate, Some(&unsupported.to_string()))
        .await;
    assert_eq!(c.body["error_count"], 0, "Debezium: {}", c.body);
    assert_eq!(f.body["error_count"], 1, "Ferry: {}", f.body);

    // Creating a connector with them is refused by Ferry, naming the unsupported one (Connect validates
    // the same way before it creates a connector; Debezium accepts it).
    let create = json!({"name": "outbox-connector", "config": unsupported}).to_string();
    let url = format!("{}/connectors", pair.ferry.base);
    let answer = try_call("POST", &url, Some(&create), Duration::from_secs(60))
        .await
        .unwrap();
    let message = answer.body["message"].as_str().unwrap_or_default();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        message.contains("xmin.fetch.interval.ms") && !message.contains("post.processors"),
        "{message}"
    );

    // A wrong password: both test the connection and report it on database.hostname
    // (Debezium's validateConnection), so both refuse to create such a connector.
    let mut wrong = seed(&pg, &db);
    wrong["database.password"] = json!("wrong");
    let (f, c) = pair
        .exchange(WRONG_PASSWORD, "PUT", &validate, Some(&wrong.to_string()))
        .await;
    assert_eq!((f.status, c.status), (200, 200));
    for (side, body) in [("Debezium", &c.body), ("Ferry", &f.body)] {
        assert_eq!(body["error_count"], 1, "{side}: {body}");
        let host = body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["value"]["name"] == "database.hostname")
            .unwrap();
        let message = host["value"]["errors"][0].as_str().unwrap_or_default();
        assert!(
            message.starts_with("Error while validating connector config: ")
                && message.contains("password authentication failed for user \"postgres\""),
            "{side}: {message}"
        );
    }
    let create = json!({"name": "outbox-connector", "config": wrong}).to_string();
    for base in [&pair.ferry.base, &pair.connect.base] {
        let answer = try_call(
            "POST",
            &format!("{base}/connectors"),
            Some(&create),
            Duration::from_secs(120),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 400, "{base}: {}", answer.body);
        let message = answer.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("password authentication failed"),
            "{base}: {message}"
        );
    }

    pair.report.finish("postgres settings", KNOWN);
}
