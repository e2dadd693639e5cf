//! Every REST endpoint of Kafka Connect, with good and bad input, sent to Ferry and to the
//! real Kafka Connect 4.3; status codes, `Location` headers and bodies compared by path.

use ferry_differential::pair::Pair;
use ferry_differential::report::Known;
use ferry_test_support::worker::Answer;
use serde_json::{json, Value};

/// Differences between Ferry and Kafka Connect 4.3 that are known, each with its reason
/// (docs/compatibility.md, "Measured against Kafka Connect 4.3 and Debezium 3.6.3").
const KNOWN: &[Known] = &[Known {
    step: "POST /connectors (malformed JSON)",
    path: "$.message",
    why: "deliberate: the message of a JSON parse error is the parser's own (Jackson's wording \
              names its internals); status and error_code are the same",
}];

fn connector_and_tasks_are(want: &'static str) -> impl Fn(&Answer) -> bool {
    move |a| {
        a.status == 200
            && a.body["connector"]["state"] == want
            && a.body["tasks"]
                .as_array()
                .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == want))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_endpoint_answers_as_kafka_connect_does() {
    let mut pair = Pair::start("rest", &[]);
    let input = pair.dir.path().join("input.txt");
    std::fs::write(&input, "one\ntwo\nthree\n").unwrap();
    let topic = format!("{}-lines", pair.prefix);
    for broker in [&pair.ferry.broker, &pair.connect.broker] {
        broker.create_topic(&topic, 1, &[]).await;
    }
    let source = json!({
        "name": "lines",
        "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": input.display().to_string(),
            "topic": topic,
        }
    })
    .to_string();

    // The worker.
    pair.exchange("GET /", "GET", "/", None).await;
    pair.exchange("GET /connectors (none)", "GET", "/connectors", None)
        .await;
    pair.exchange("GET /connector-plugins", "GET", "/connector-plugins", None)
        .await;
    pair.exchange(
        "GET /connector-plugins?connectorsOnly=false",
        "GET",
        "/connector-plugins?connectorsOnly=false",
        None,
    )
    .await;
    pair.exchange(
        "GET /connector-plugins/FileStreamSource/config",
        "GET",
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config",
        None,
    )
    .await;
    pair.exchange(
        "GET /admin/loggers/unknown.logger",
        "GET",
        "/admin/loggers/no.such.logger",
        None,
    )
    .await;
    pair.exchange("GET /no/such/path", "GET", "/no/such/path", None)
        .await;

    // Validation.
    let validate =
        "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config/validate";
    pair.exchange(
        "PUT validate (valid)",
        "PUT",
        validate,
        Some(&json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": "t", "file": "/tmp/x"}).to_string()),
    )
    .await;
    pair.exchange(
        "PUT validate (bad tasks.max)",
        "PUT",
        validate,
        Some(&json!({"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": "t", "tasks.max": "zero"}).to_string()),
    )
    .await;

    // Bad creations.
    pair.exchange(
        "POST /connectors (malformed JSON)",
        "POST",
        "/connectors",
        Some("{\"name\": "),
    )
    .await;
    pair.exchange(
        "POST /connectors (no connector.class)",
        "POST",
        "/connectors",
        Some(&json!({"name": "x", "config": {"topic": "t"}}).to_string()),
    )
    .await;
    pair.exchange(
        "POST /connectors (unknown class)",
        "POST",
        "/connectors",
        Some(&json!({"name": "x", "config": {"connector.class": "com.example.NoSuchConnector"}}).to_string()),
    )
    .await;
    pair.exchange(
        "POST /connectors (invalid value)",
        "POST",
        "/connectors",
        Some(
            &json!({"name": "x", "config": {"connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "topic": "t", "batch.size": "-1"}})
                .to_string(),
        ),
    )
    .await;

    // A connector's life.
    pair.exchange("POST /connectors", "POST", "/connectors", Some(&source))
        .await;
    pair.exchange("POST /connectors (exists)", "POST", "/connectors", Some(&source))
        .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;
    pair.exchange("GET /connectors", "GET", "/connectors", None).await;
    pair.exchange(
        "GET /connectors?expand=status",
        "GET",
        "/connectors?expand=status",
        None,
    )
    .await;
    pair.exchange(
        "GET /connectors?expand=info",
        "GET",
        "/connectors?expand=info",
        None,
    )
    .await;
    pair.exchange("GET /connectors/lines", "GET", "/connectors/lines", None)
        .await;
    pair.exchange(
        "GET /connectors/lines/config",
        "GET",
        "/connectors/lines/config",
        None,
    )
    .await;
    pair.exchange(
        "GET /connectors/lines/status",
        "GET",
        "/connectors/lines/status",
        None,
    )
    .await;
    pair.exchange(
        "GET /connectors/lines/tasks",
        "GET",
        "/connectors/lines/tasks",
        None,
    )
    .await;
    pair.exchange(
        "GET /connectors/lines/tasks/0/status",
        "GET",
        "/connectors/lines/tasks/0/status",
        None,
    )
    .await;
    // The internal endpoints refuse requests without the session key's signature.
    pair.exchange(
        "POST /connectors/lines/tasks (unsigned)",
        "POST",
        "/connectors/lines/tasks",
        Some(r#"[{"task.class":"org.apache.kafka.connect.file.FileStreamSourceTask"}]"#),
    )
    .await;
    pair.exchange(
        "PUT /connectors/lines/fence (unsigned)",
        "PUT",
        "/connectors/lines/fence",
        None,
    )
    .await;
    pair.exchange(
        "GET /connectors/lines/tasks/7/status",
        "GET",
        "/connectors/lines/tasks/7/status",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/topics", |a| {
        a.status == 200 && a.body["lines"]["topics"] != json!([])
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/topics",
        "GET",
        "/connectors/lines/topics",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/offsets", |a| {
        a.status == 200 && a.body["offsets"] != json!([])
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/offsets (running)",
        "GET",
        "/connectors/lines/offsets",
        None,
    )
    .await;
    pair.exchange(
        "DELETE /connectors/lines/offsets (running)",
        "DELETE",
        "/connectors/lines/offsets",
        None,
    )
    .await;

    pair.exchange(
        "PUT /connectors/lines/pause",
        "PUT",
        "/connectors/lines/pause",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("PAUSED"))
        .await;
    pair.exchange(
        "GET /connectors/lines/status (paused)",
        "GET",
        "/connectors/lines/status",
        None,
    )
    .await;
    pair.exchange(
        "PUT /connectors/lines/resume",
        "PUT",
        "/connectors/lines/resume",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;

    pair.exchange(
        "POST /connectors/lines/restart",
        "POST",
        "/connectors/lines/restart",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;
    pair.exchange(
        "POST /connectors/lines/restart?includeTasks=true",
        "POST",
        "/connectors/lines/restart?includeTasks=true&onlyFailed=false",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;
    pair.exchange(
        "POST /connectors/lines/tasks/0/restart",
        "POST",
        "/connectors/lines/tasks/0/restart",
        None,
    )
    .await;
    pair.exchange(
        "POST /connectors/lines/tasks/9/restart",
        "POST",
        "/connectors/lines/tasks/9/restart",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;

    let mut config: Value = serde_json::from_str::<Value>(&source).unwrap()["config"].clone();
    config["batch.size"] = json!("100");
    pair.exchange(
        "PUT /connectors/lines/config (update)",
        "PUT",
        "/connectors/lines/config",
        Some(&config.to_string()),
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;
    // Connect answers 500 "a rebalance is expected" until the update's rebalance is done
    // (its status still shows the old RUNNING meanwhile).
    pair.wait_both("/connectors/lines/config", |a| {
        a.status == 200 && a.body["batch.size"] == "100"
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/config (updated)",
        "GET",
        "/connectors/lines/config",
        None,
    )
    .await;
    pair.exchange(
        "PATCH /connectors/lines/config",
        "PATCH",
        "/connectors/lines/config",
        Some(&json!({"batch.size": "50"}).to_string()),
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;

    // Offsets, on a stopped connector.
    pair.exchange(
        "PUT /connectors/lines/stop",
        "PUT",
        "/connectors/lines/stop",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", |a| {
        a.status == 200 && a.body["connector"]["state"] == "STOPPED" && a.body["tasks"] == json!([])
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/status (stopped)",
        "GET",
        "/connectors/lines/status",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/offsets", |a| {
        a.status == 200 && a.body["offsets"] != json!([])
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/offsets",
        "GET",
        "/connectors/lines/offsets",
        None,
    )
    .await;
    let offsets = json!({"offsets": [{"partition": {"filename": input.display().to_string()}, "offset": {"position": 4}}]});
    pair.exchange(
        "PATCH /connectors/lines/offsets",
        "PATCH",
        "/connectors/lines/offsets",
        Some(&offsets.to_string()),
    )
    .await;
    pair.exchange(
        "GET /connectors/lines/offsets (altered)",
        "GET",
        "/connectors/lines/offsets",
        None,
    )
    .await;
    pair.exchange(
        "PATCH /connectors/lines/offsets (not primitive)",
        "PATCH",
        "/connectors/lines/offsets",
        Some(
            &json!({"offsets": [{"partition": {"filename": "f"}, "offset": {"position": {"a": 1}}}]})
                .to_string(),
        ),
    )
    .await;
    pair.exchange(
        "DELETE /connectors/lines/offsets",
        "DELETE",
        "/connectors/lines/offsets",
        None,
    )
    .await;
    // Connect's first answer after a reset may still list the partition with a null
    // offset (the partitions are taken before its reader reads the tombstone back); it
    // forgets the partition once read, as Ferry does at once.
    pair.wait_both("/connectors/lines/offsets", |a| {
        a.status == 200 && a.body["offsets"] == json!([])
    })
    .await;
    pair.exchange(
        "GET /connectors/lines/offsets (reset)",
        "GET",
        "/connectors/lines/offsets",
        None,
    )
    .await;
    pair.exchange(
        "PUT /connectors/lines/topics/reset",
        "PUT",
        "/connectors/lines/topics/reset",
        None,
    )
    .await;
    pair.exchange(
        "PUT /connectors/lines/resume (stopped)",
        "PUT",
        "/connectors/lines/resume",
        None,
    )
    .await;
    pair.wait_both("/connectors/lines/status", connector_and_tasks_are("RUNNING"))
        .await;

    // Unknown connector, on each route.
    for (method, path) in [
        ("GET", "/connectors/nope"),
        ("GET", "/connectors/nope/config"),
        ("GET", "/connectors/nope/status"),
        ("GET", "/connectors/nope/tasks"),
        ("GET", "/connectors/nope/tasks/0/status"),
        ("GET", "/connectors/nope/topics"),
        ("GET", "/connectors/nope/offsets"),
        ("PUT", "/connectors/nope/pause"),
        ("PUT", "/connectors/nope/resume"),
        ("PUT", "/connectors/nope/stop"),
        ("POST", "/connectors/nope/restart"),
        ("POST", "/connectors/nope/tasks/0/restart"),
        ("DELETE", "/connectors/nope"),
    ] {
        pair.exchange(&format!("{method} {path}"), method, path, None)
            .await;
    }

    pair.exchange("DELETE /connectors/lines", "DELETE", "/connectors/lines", None)
        .await;
    pair.wait_both("/connectors/lines", |a| a.status == 404).await;
    pair.exchange(
        "GET /connectors/lines (deleted)",
        "GET",
        "/connectors/lines",
        None,
    )
    .await;
    pair.exchange("GET /connectors (after delete)", "GET", "/connectors", None)
        .await;

    pair.report.finish("rest", KNOWN);
}
