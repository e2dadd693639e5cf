//! `LOG_FORMAT=json`: every line the binary logs is one JSON object, and what a task
//! logs carries its connector and task as fields.

mod common;

use std::time::Duration;

use common::{create_connector, eventually_on, ferry_exe, wait_state, Ferry, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use serde_json::Value;

fn lines(f: &Ferry) -> Vec<Value> {
    f.log_text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_carry_connector_and_task_names() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("logs", broker, &[]);
    let ferry = Ferry::start_binary(
        ferry_exe(),
        &setup.props,
        setup.port,
        &setup.path("ferry.log"),
        &[("LOG_FORMAT", "json")],
    );
    let input = setup.path("in.txt");
    std::fs::write(&input, "a\nb\n").unwrap();
    let config = serde_json::json!({
        "connector.class": "FileStreamSource",
        "file": input.to_str().unwrap(),
        "topic": setup.names.topic("data"),
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
    });
    assert_eq!(create_connector(&ferry, "json-logged", &config).await.status, 201);
    wait_state(&ferry, "json-logged", "RUNNING", &["RUNNING"]).await;
    eventually_on(
        &ferry,
        Duration::from_secs(20),
        "the task's start in the log",
        || async {
            lines(&ferry)
                .iter()
                .any(|l| l["message"] == "source task started")
        },
    )
    .await;

    let all = lines(&ferry);
    assert!(all.len() > 5, "{all:?}");
    for l in &all {
        assert!(l["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{l}");
        assert!(l["level"].is_string() && l["message"].is_string(), "{l}");
    }
    let started = all
        .iter()
        .find(|l| l["message"] == "source task started")
        .unwrap();
    assert_eq!(started["connector"], "json-logged", "{started}");
    assert_eq!(started["task"], 0, "{started}");
    assert_eq!(started["level"], "INFO", "{started}");
    // The connector's own lines carry its name too.
    assert!(
        all.iter()
            .any(|l| l["connector"] == "json-logged" && l.get("task").is_none()),
        "no connector-level line: {all:?}"
    );
    // Request log lines are structured as well.
    assert!(
        all.iter()
            .any(|l| l["method"] == "POST" && l["uri"] == "/connectors" && l["status"] == 201),
        "no access log line for the POST"
    );
}
