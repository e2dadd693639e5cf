//! The worker driven over HTTP against a real broker: connector lifecycle,
//! FileStream round trips, crash recovery, graceful stop, record formats.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{
    call, create_connector, eventually, eventually_on, read_lines, states, wait_state, WorkerSetup,
};
use ferry_test_support::kafka::Tansu;
use serde_json::{json, Value};

fn source_config(setup: &WorkerSetup, file: &str, topic: &str) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": setup.path(file).to_str().unwrap(),
        "topic": topic,
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
    })
}

fn write_lines(path: &std::path::Path, range: std::ops::RangeInclusive<usize>) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let mut buf = String::new();
    for i in range {
        buf.push_str(&format!("line-{i:05}\n"));
    }
    f.write_all(buf.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_lifecycle_of_a_file_source_connector() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("lifecycle", broker, &[]);
    let topic = setup.names.topic("data");
    write_lines(&setup.path("in.txt"), 1..=3);
    let ferry = setup.start();

    let created = create_connector(&ferry, "src", &source_config(&setup, "in.txt", &topic)).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["name"], "src");
    assert_eq!(created.body["type"], "source");
    assert_eq!(created.body["config"]["name"], "src");
    assert!(created.location.unwrap().ends_with("/connectors/src"));
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;

    let again = create_connector(&ferry, "src", &source_config(&setup, "in.txt", &topic)).await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body,
        json!({"error_code": 409, "message": "Connector src already exists"})
    );

    let list = call("GET", &ferry.url("/connectors"), None).await;
    assert_eq!(list.body, json!(["src"]));
    let expanded = call("GET", &ferry.url("/connectors?expand=status&expand=info"), None).await;
    assert_eq!(expanded.body["src"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(
        expanded.body["src"]["info"]["tasks"],
        json!([{"connector": "src", "task": 0}])
    );
    let only_info = call("GET", &ferry.url("/connectors?expand=info"), None).await;
    assert!(only_info.body["src"].get("status").is_none());

    // Topic tracking (KIP-558): the topic the source wrote to, and a reset.
    eventually(Duration::from_secs(20), "the active topic", || async {
        call("GET", &ferry.url("/connectors/src/topics"), None).await.body
            == json!({"src": {"topics": [topic]}})
    })
    .await;
    assert_eq!(
        call("PUT", &ferry.url("/connectors/src/topics/reset"), None)
            .await
            .status,
        202
    );
    assert_eq!(
        call("GET", &ferry.url("/connectors/src/topics"), None).await.body,
        json!({"src": {"topics": []}})
    );

    let tasks = call("GET", &ferry.url("/connectors/src/tasks"), None).await;
    assert_eq!(tasks.body[0]["id"], json!({"connector": "src", "task": 0}));
    assert_eq!(tasks.body[0]["config"]["topic"], topic.as_str());
    let task_status = call("GET", &ferry.url("/connectors/src/tasks/0/status"), None).await;
    assert_eq!(task_status.body["state"], "RUNNING");
    assert_eq!(task_status.body["id"], 0);

    assert_eq!(
        call("PUT", &ferry.url("/connectors/src/pause"), None)
            .await
            .status,
        202
    );
    wait_state(&ferry, "src", "PAUSED", &["PAUSED"]).await;
    assert_eq!(
        call("PUT", &ferry.url("/connectors/src/resume"), None)
            .await
            .status,
        202
    );
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;

    assert_eq!(
        call("PUT", &ferry.url("/connectors/src/stop"), None).await.status,
        204
    );
    wait_state(&ferry, "src", "STOPPED", &[]).await;
    let info = call("GET", &ferry.url("/connectors/src"), None).await;
    assert_eq!(info.body["tasks"], json!([]));
    assert_eq!(
        call("PUT", &ferry.url("/connectors/src/resume"), None)
            .await
            .status,
        202
    );
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;

    assert_eq!(
        call("POST", &ferry.url("/connectors/src/restart"), None)
            .await
            .status,
        204
    );
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;
    let restart = call(
        "POST",
        &ferry.url("/connectors/src/restart?includeTasks=true"),
        None,
    )
    .await;
    assert_eq!(restart.status, 202);
    assert_eq!(restart.body["connector"]["state"], "RESTARTING");
    assert_eq!(restart.body["tasks"][0]["state"], "RESTARTING");
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;
    assert_eq!(
        call("POST", &ferry.url("/connectors/src/tasks/0/restart"), None)
            .await
            .status,
        204
    );
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;

    // A config update restarts the task with the new config.
    let mut updated = source_config(&setup, "in.txt", &topic);
    updated["batch.size"] = json!("7");
    let put = call(
        "PUT",
        &ferry.url("/connectors/src/config"),
        Some(&updated.to_string()),
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    eventually(Duration::from_secs(20), "task config update", || async {
        let t = call("GET", &ferry.url("/connectors/src/tasks"), None).await;
        t.body[0]["config"]["batch.size"] == "7"
    })
    .await;

    assert_eq!(
        call("DELETE", &ferry.url("/connectors/src"), None).await.status,
        204
    );
    let gone = call("GET", &ferry.url("/connectors/src"), None).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["message"], "Connector src not found");
    assert_eq!(call("GET", &ferry.url("/connectors"), None).await.body, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_round_trip_of_10000_lines_arrives_complete_and_in_order() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("roundtrip", broker, &[]);
    let topic = setup.names.topic("lines");
    write_lines(&setup.path("in.txt"), 1..=10_000);
    let ferry = setup.start();
    let src = create_connector(&ferry, "src", &source_config(&setup, "in.txt", &topic)).await;
    assert_eq!(src.status, 201, "{:?}", src.body);
    let out = setup.path("out.txt");
    let sink = call(
        "POST",
        &ferry.url("/connectors"),
        Some(
            &json!({"name": setup.names.topic("sink"), "config": {
                "connector.class": "FileStreamSink",
                "file": out.to_str().unwrap(),
                "topics": topic,
            }})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(sink.status, 201, "{:?}", sink.body);
    eventually(
        Duration::from_secs(60),
        "10,000 lines in the sink file",
        || async { read_lines(&out).len() >= 10_000 },
    )
    .await;
    let got = read_lines(&out);
    let want: Vec<String> = (1..=10_000).map(|i| format!("line-{i:05}")).collect();
    assert_eq!(got, want);
}

/// Line numbers (1-based) carried by the records of a topic, in topic order:
/// at least `at_least` of them (waiting up to a minute), or everything up to the end when 0.
fn line_numbers(broker: &Tansu, topic: &str, at_least: usize) -> Vec<usize> {
    let records = if at_least == 0 {
        broker.consume_to_end(topic)
    } else {
        broker.consume(topic, at_least, Duration::from_secs(60))
    };
    records
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_slice(r.value.as_deref().unwrap()).unwrap();
            v["payload"].as_str().unwrap()[5..].parse().unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_then_restart_loses_nothing_and_resends_only_after_the_last_flush() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("crash", broker, &[("offset.flush.interval.ms", "300")]);
    let topic = setup.names.topic("lines");
    let offsets_topic = setup.names.topic("offsets");
    let total = 20_000;
    // The file grows while the worker runs, so the kill lands mid-stream.
    let input = setup.path("in.txt");
    write_lines(&input, 1..=200);
    let writer = {
        let input = input.clone();
        std::thread::spawn(move || {
            for start in (201..=total).step_by(200) {
                std::thread::sleep(Duration::from_millis(40));
                write_lines(&input, start..=start + 199);
            }
        })
    };
    let mut ferry = setup.start();
    let mut cfg = source_config(&setup, "in.txt", &topic);
    cfg["batch.size"] = json!("100");
    let r = create_connector(&ferry, "src", &cfg).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // A second connector, paused: its target state must survive the crash.
    let idle = json!({
        "name": "idle",
        "config": source_config(&setup, "idle.txt", &setup.names.topic("idle")),
        "initial_state": "PAUSED"
    });
    let paused = call("POST", &ferry.url("/connectors"), Some(&idle.to_string())).await;
    assert_eq!(paused.status, 201, "{:?}", paused.body);

    // Kill once some offsets were flushed, while lines are still being written.
    eventually(Duration::from_secs(60), "a first offset flush", || async {
        let o = call("GET", &ferry.url("/connectors/src/offsets"), None).await;
        o.body["offsets"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    ferry.kill9();

    // The last flushed position, straight from the offsets topic.
    let flushed = broker.consume_to_end(&offsets_topic);
    let last = flushed.last().expect("an offset record");
    let position = serde_json::from_slice::<Value>(last.value.as_deref().unwrap()).unwrap()["position"]
        .as_u64()
        .unwrap() as usize;
    let bytes_per_line = "line-00000\n".len();
    assert_eq!(position % bytes_per_line, 0);
    let flushed_lines = position / bytes_per_line;
    let before = line_numbers(broker, &topic, 0);
    assert!(
        before.len() >= flushed_lines,
        "records before the crash must cover the flushed offset"
    );
    assert!(
        before.len() < total,
        "the kill must land mid-stream ({} lines sent)",
        before.len()
    );

    let ferry = setup.start();
    wait_state(&ferry, "idle", "PAUSED", &["PAUSED"]).await;
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;
    writer.join().unwrap();
    let resent = total - flushed_lines;
    let all = line_numbers(broker, &topic, before.len() + resent);
    assert_eq!(all.len(), before.len() + resent, "log:\n{}", ferry.log_text());
    // Before the crash: 1..=k in order. After: exactly flushed_lines+1..=total.
    let expected_before: Vec<usize> = (1..=before.len()).collect();
    assert_eq!(&all[..before.len()], &expected_before[..]);
    let expected_after: Vec<usize> = (flushed_lines + 1..=total).collect();
    assert_eq!(&all[before.len()..], &expected_after[..]);
    let duplicates = before.len() - flushed_lines;
    eprintln!(
        "crash test: {} lines before kill, flushed {flushed_lines}, re-sent {duplicates} duplicates",
        before.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_offsets_so_a_restart_resends_nothing() {
    let broker = Tansu::shared();
    // A long flush interval: only the flush on shutdown can store the final offset.
    let setup = WorkerSetup::new("sigterm", broker, &[("offset.flush.interval.ms", "600000")]);
    let topic = setup.names.topic("lines");
    write_lines(&setup.path("in.txt"), 1..=500);
    let mut ferry = setup.start();
    let r = create_connector(&ferry, "src", &source_config(&setup, "in.txt", &topic)).await;
    assert_eq!(r.status, 201);
    assert_eq!(line_numbers(broker, &topic, 500).len(), 500);
    let status = ferry.terminate();
    assert!(status.success(), "exit status {status:?}");

    let ferry = setup.start();
    wait_state(&ferry, "src", "RUNNING", &["RUNNING"]).await;
    let offsets = call("GET", &ferry.url("/connectors/src/offsets"), None).await;
    assert_eq!(offsets.body["offsets"][0]["offset"]["position"], 500 * 11);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(line_numbers(broker, &topic, 0).len(), 500, "nothing re-sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_topics_hold_kafka_connects_bytes() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("bytes", broker, &[("rest.advertised.host.name", "worker1")]);
    let topic = setup.names.topic("data");
    write_lines(&setup.path("in.txt"), 1..=2);
    let ferry = setup.start();
    let file = setup.path("in.txt").to_str().unwrap().to_owned();
    let body = format!(
        r#"{{"name":"bytes-src","config":{{"connector.class":"FileStreamSource","tasks.max":"1","file":"{file}","topic":"{topic}"}}}}"#
    );
    assert_eq!(
        call("POST", &ferry.url("/connectors"), Some(&body)).await.status,
        201
    );
    wait_state(&ferry, "bytes-src", "RUNNING", &["RUNNING"]).await;
    let restart = call(
        "POST",
        &ferry.url("/connectors/bytes-src/restart?includeTasks=true"),
        None,
    )
    .await;
    assert_eq!(restart.status, 202);
    wait_state(&ferry, "bytes-src", "RUNNING", &["RUNNING"]).await;
    assert_eq!(
        call("PUT", &ferry.url("/connectors/bytes-src/pause"), None)
            .await
            .status,
        202
    );
    wait_state(&ferry, "bytes-src", "PAUSED", &["PAUSED"]).await;
    eventually(Duration::from_secs(20), "an offset flush", || async {
        let o = call("GET", &ferry.url("/connectors/bytes-src/offsets"), None).await;
        o.body["offsets"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;

    let configs = broker.consume_to_end(&setup.names.topic("configs"));
    let find = |key: &str| {
        configs
            .iter()
            .rev()
            .find(|r| r.key_str() == Some(key))
            .unwrap_or_else(|| {
                panic!(
                    "no record {key} in {:?}",
                    configs.iter().map(|r| r.key_str()).collect::<Vec<_>>()
                )
            })
            .value_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        find("connector-bytes-src"),
        format!(
            r#"{{"properties":{{"connector.class":"FileStreamSource","tasks.max":"1","file":"{file}","topic":"{topic}","name":"bytes-src"}}}}"#
        )
    );
    assert_eq!(find("commit-bytes-src"), r#"{"tasks":1}"#);
    assert_eq!(
        find("restart-connector-bytes-src"),
        r#"{"include-tasks":true,"only-failed":false}"#
    );
    assert_eq!(
        find("target-state-bytes-src"),
        r#"{"state":"PAUSED","state.v2":"PAUSED"}"#
    );
    // The group's leader keeps a session key, as Connect's does on `sessioned`, and
    // internal requests must be signed with it.
    let session: Value = serde_json::from_str(&find("session-key")).unwrap();
    assert_eq!(session["algorithm"], "HmacSHA256", "{session}");
    assert_eq!(session["key"].as_str().map(str::len), Some(44), "{session}");
    assert!(session["creation-timestamp"].is_i64(), "{session}");
    let unsigned = reqwest::Client::new()
        .post(ferry.url("/connectors/bytes-src/tasks"))
        .header("Content-Type", "application/json")
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 400);
    assert!(unsigned
        .text()
        .await
        .unwrap()
        .contains("Internal request missing required signature"));
    let task: Value = serde_json::from_str(&find("task-bytes-src-0")).unwrap();
    assert_eq!(task["properties"]["topic"], topic.as_str());
    // Connect copies task configs into a java.util.HashMap: its iteration order, not the connector's.
    let keys: Vec<&String> = task["properties"].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "connector.class",
            "file",
            "task.class",
            "tasks.max",
            "name",
            "topic"
        ]
    );

    let statuses = broker.consume_to_end(&setup.names.topic("status"));
    let last = |key: &str| {
        statuses
            .iter()
            .rfind(|r| r.key_str() == Some(key))
            .unwrap_or_else(|| panic!("no {key}"))
            .value_str()
            .unwrap()
            .to_owned()
    };
    // The generation is the group's: one per rebalance (creating the connector is one).
    for key in ["status-connector-bytes-src", "status-task-bytes-src-0"] {
        let record = last(key);
        let generation = serde_json::from_str::<Value>(&record).unwrap()["generation"]
            .as_i64()
            .filter(|g| *g >= 1)
            .unwrap_or_else(|| panic!("a generation of at least 1: {record}"));
        assert_eq!(
            record,
            format!(
                r#"{{"state":"PAUSED","trace":null,"worker_id":"worker1:{}","generation":{generation},"version":"4.3.0"}}"#,
                setup.port
            ),
            "{key}"
        );
    }

    let offsets = broker.consume(&setup.names.topic("offsets"), 1, Duration::from_secs(20));
    let o = offsets.last().unwrap();
    assert_eq!(
        o.key_str().unwrap(),
        format!(r#"["bytes-src",{{"filename":"{file}"}}]"#)
    );
    assert_eq!(o.value_str().unwrap(), r#"{"position":22}"#);
    // Java's producer puts this key in partition murmur2(key) % 25; so must we.
    let expected_partition = (murmur2(o.key.as_deref().unwrap()) & 0x7fff_ffff) % 25;
    assert_eq!(o.partition as u32, expected_partition);
}

/// Kafka's murmur2 (Utils.murmur2), written out here so the test does not trust the code under test.
fn murmur2(data: &[u8]) -> u32 {
    let seed: u32 = 0x9747_b28c;
    let m: u32 = 0x5bd1_e995;
    let r = 24;
    let len = data.len();
    let mut h: u32 = seed ^ (len as u32);
    let chunks = len / 4;
    for i in 0..chunks {
        let i4 = i * 4;
        let mut k = u32::from_le_bytes([data[i4], data[i4 + 1], data[i4 + 2], data[i4 + 3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    let rest = &data[chunks * 4..];
    if rest.len() >= 3 {
        h ^= (rest[2] as u32) << 16;
    }
    if rest.len() >= 2 {
        h ^= (rest[1] as u32) << 8;
    }
    if !rest.is_empty() {
        h ^= rest[0] as u32;
        h = h.wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_connects_answers_and_the_worker_keeps_serving() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("badinput", broker, &[]);
    let topic = setup.names.topic("data");
    write_lines(&setup.path("in.txt"), 1..=2);
    let ferry = setup.start();
    let post = |body: String| {
        let url = ferry.url("/connectors");
        async move { call("POST", &url, Some(&body)).await }
    };

    let malformed = post("{\"name\": \"x\", \"config\": {".into()).await;
    assert_eq!(malformed.status, 500);
    assert_eq!(malformed.body["error_code"], 500);

    let no_class = post(json!({"name": "x", "config": {"tasks.max": "1"}}).to_string()).await;
    assert_eq!(no_class.status, 400);
    assert_eq!(
        no_class.body["message"],
        "Connector config {tasks.max=1, name=x} contains no connector type"
    );

    let unknown =
        post(json!({"name": "x", "config": {"connector.class": "com.example.Nope"}}).to_string()).await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Failed to find any class that implements Connector and which name matches com.example.Nope, available connectors are: PluginDesc{klass=class "));

    let mismatch = call(
        "PUT",
        &ferry.url("/connectors/a/config"),
        Some(&json!({"connector.class": "FileStreamSource", "name": "b", "topic": topic}).to_string()),
    )
    .await;
    assert_eq!(mismatch.status, 400);
    assert_eq!(
        mismatch.body["message"],
        "Connector name configuration (b) doesn't match connector name in the URL (a)"
    );

    let invalid = post(
        json!({"name": "x", "config": {"connector.class": "FileStreamSource", "tasks.max": "0"}}).to_string(),
    )
    .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(
        invalid.body["message"],
        "Connector configuration is invalid and contains the following 2 error(s):\n\
         Invalid value 0 for configuration tasks.max: Value must be at least 1\n\
         Missing required configuration \"topic\" which has no default value.\n\
         You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
    );

    for (method, path) in [
        ("GET", "/connectors/ghost"),
        ("GET", "/connectors/ghost/config"),
        ("PUT", "/connectors/ghost/pause"),
        ("PUT", "/connectors/ghost/resume"),
        ("PUT", "/connectors/ghost/stop"),
        ("POST", "/connectors/ghost/restart"),
        ("GET", "/connectors/ghost/tasks"),
        ("GET", "/connectors/ghost/status"),
        ("DELETE", "/connectors/ghost"),
        ("GET", "/connectors/ghost/offsets"),
        ("DELETE", "/connectors/ghost/offsets"),
        ("POST", "/connectors/ghost/tasks/0/restart"),
        ("GET", "/connectors/ghost/tasks/0/status"),
    ] {
        let a = call(method, &ferry.url(path), None).await;
        assert_eq!(a.status, 404, "{method} {path}: {:?}", a.body);
        assert_eq!(a.body["error_code"], 404);
    }

    let ok =
        post(json!({"name": "live", "config": source_config(&setup, "in.txt", &topic)}).to_string()).await;
    assert_eq!(ok.status, 201);
    wait_state(&ferry, "live", "RUNNING", &["RUNNING"]).await;
    let alter = call(
        "PATCH",
        &ferry.url("/connectors/live/offsets"),
        Some(&json!({"offsets": [{"partition": {"filename": "x"}, "offset": {"position": 0}}]}).to_string()),
    )
    .await;
    assert_eq!(alter.status, 400);
    assert_eq!(
        alter.body["message"],
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/live/stop' endpoint"
    );

    let bad_level = call(
        "PUT",
        &ferry.url("/admin/loggers/root"),
        Some(r#"{"level":"LOUD"}"#),
    )
    .await;
    assert_eq!(bad_level.status, 404);
    let good_level = call(
        "PUT",
        &ferry.url("/admin/loggers/io.debezium"),
        Some(r#"{"level":"DEBUG"}"#),
    )
    .await;
    assert_eq!(good_level.status, 200);
    assert_eq!(good_level.body, json!(["io.debezium"]));
    let loggers = call("GET", &ferry.url("/admin/loggers"), None).await;
    assert_eq!(loggers.body["io.debezium"]["level"], "DEBUG");
    let one = call(
        "GET",
        &ferry.url("/admin/loggers/io.debezium.connector.postgresql.PostgresConnector"),
        None,
    )
    .await;
    assert_eq!((one.status, &one.body["level"]), (200, &json!("DEBUG")));
    let missing = call("GET", &ferry.url("/admin/loggers/com.example.Nope"), None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["message"], "Logger com.example.Nope not found.");

    // Still serving, and the good connector still runs.
    assert_eq!(call("GET", &ferry.url("/"), None).await.status, 200);
    assert_eq!(states(&ferry, "live").await.0, "RUNNING");

    // Offsets can be altered once stopped.
    assert_eq!(
        call("PUT", &ferry.url("/connectors/live/stop"), None)
            .await
            .status,
        204
    );
    wait_state(&ferry, "live", "STOPPED", &[]).await;
    // The plugin checks altered offsets first, with Connect's status and message.
    let refused = call(
        "PATCH",
        &ferry.url("/connectors/live/offsets"),
        Some(&json!({"offsets": [{"partition": {"filename": "x"}, "offset": {"position": -5}}]}).to_string()),
    )
    .await;
    assert_eq!(refused.status, 500, "{:?}", refused.body);
    assert_eq!(
        refused.body["message"],
        "The value for the 'position' key in the offset should be a non-negative value"
    );
    // Before the plugin, Connect's own format check (OffsetUtils.validateFormat), on the
    // request collected into a map: the later entry for a partition wins.
    let nested = call(
        "PATCH",
        &ferry.url("/connectors/live/offsets"),
        Some(
            &json!({"offsets": [
                {"partition": {"filename": "x"}, "offset": {"position": 1}},
                {"partition": {"filename": "x"}, "offset": {"position": {"deep": 1}}}
            ]})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(nested.status, 500, "{:?}", nested.body);
    assert_eq!(
        nested.body["message"],
        "Offsets may only contain primitive types as values, but field position contains MAP"
    );
    let alter = call(
        "PATCH",
        &ferry.url("/connectors/live/offsets"),
        Some(&json!({"offsets": [{"partition": {"filename": "x"}, "offset": {"position": 7}}]}).to_string()),
    )
    .await;
    assert_eq!(alter.status, 200, "{:?}", alter.body);
    assert_eq!(
        alter.body["message"],
        "The offsets for this connector have been altered successfully"
    );
    let offsets = call("GET", &ferry.url("/connectors/live/offsets"), None).await;
    assert!(offsets.body["offsets"]
        .as_array()
        .unwrap()
        .contains(&json!({"partition": {"filename": "x"}, "offset": {"position": 7}})));
    let reset = call("DELETE", &ferry.url("/connectors/live/offsets"), None).await;
    assert_eq!(reset.status, 200);
    assert_eq!(
        reset.body["message"],
        "The offsets for this connector have been reset successfully"
    );
    // Reset partitions are forgotten, as Kafka Connect forgets them once it reads the
    // tombstones back (its first answer may still list them with a null offset).
    let offsets = call("GET", &ferry.url("/connectors/live/offsets"), None).await;
    assert_eq!(offsets.body["offsets"], json!([]), "{:?}", offsets.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_and_plugins_endpoints() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("plugins", broker, &[]);
    let ferry = setup.start();
    let plugins = call("GET", &ferry.url("/connector-plugins"), None).await;
    let classes: Vec<&str> = plugins
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        [
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "io.debezium.connector.postgresql.PostgresConnector",
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
        ]
    );
    let all = call("GET", &ferry.url("/connector-plugins?connectorsOnly=false"), None).await;
    let all = all.body.as_array().unwrap();
    assert!(all
        .iter()
        .any(|p| p["class"] == "io.debezium.transforms.outbox.EventRouter" && p["type"] == "transformation"));
    assert!(all
        .iter()
        .any(|p| p["class"] == "org.apache.kafka.connect.json.JsonConverter" && p["type"] == "converter"));
    // A converter that is a HeaderConverter too is listed again as one, as Connect does.
    assert!(all
        .iter()
        .any(|p| p["class"] == "org.apache.kafka.connect.json.JsonConverter"
            && p["type"] == "header_converter"));

    let v = call(
        "PUT",
        &ferry.url("/connector-plugins/FileStreamSourceConnector/config/validate"),
        Some(
            &json!({"connector.class": "FileStreamSourceConnector", "name": "v", "topic": "t",
                    "transforms": "r", "transforms.r.type": "org.apache.kafka.connect.transforms.RegexRouter",
                    "transforms.r.regex": "(unclosed", "transforms.r.replacement": "x"})
            .to_string(),
        ),
    )
    .await;
    assert_eq!(v.status, 200, "{:?}", v.body);
    assert_eq!(v.body["name"], "FileStreamSourceConnector");
    assert_eq!(v.body["error_count"], 1, "{:#}", v.body);
    let errs: Vec<&Value> = v.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["value"]["errors"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(errs[0]["value"]["name"], "transforms.r.regex");
}

#[test]
fn a_bad_worker_setting_is_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let props = dir.path().join("w.properties");
    std::fs::write(
        &props,
        "bootstrap.servers=127.0.0.1:1\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n\
         status.storage.topic=s\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
         value.converter=org.apache.kafka.connect.json.JsonConverter\noffset.flush.interval.ms=often\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("distributed")
        .arg(&props)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "ferry: Invalid value often for configuration offset.flush.interval.ms: Not a number of type LONG"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("distributed")
        .env_clear()
        .env("CONNECT_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "ferry: Missing required configuration \"group.id\" which has no default value."
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("ferry {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_topic_that_is_not_compacted_stops_start_up() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("notcompact", broker, &[]);
    broker
        .create_topic(&setup.names.topic("offsets"), 1, &[("cleanup.policy", "delete")])
        .await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("distributed")
        .arg(&setup.props)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "Topic '{}' supplied via the 'offset.storage.topic' property is required to have 'cleanup.policy=compact'",
            setup.names.topic("offsets")
        )),
        "{stderr}"
    );
}

fn sink_config(setup: &WorkerSetup, topic: &str, extra: &[(&str, &str)]) -> Value {
    let mut c = json!({
        "connector.class": "FileStreamSink",
        "file": setup.path("out.txt").to_str().unwrap(),
        "topics": topic,
    });
    for (k, v) in extra {
        c[*k] = json!(v);
    }
    c
}

fn string_envelope(s: &str) -> Vec<u8> {
    json!({"schema": {"type": "string", "optional": false}, "payload": s})
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_record_goes_to_the_dead_letter_queue_and_the_rest_flows() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("dlq", broker, &[]);
    let sink = setup.names.topic("sink");
    let topic = setup.names.topic("in");
    let dlq = setup.names.topic("dlq");
    broker.create_topic(&topic, 1, &[]).await;
    let (a, b) = (string_envelope("first"), string_envelope("third"));
    broker
        .produce(
            &topic,
            &[
                (None, Some(&a)),
                (None, Some(b"not json at all")),
                (None, Some(&b)),
            ],
        )
        .await;
    let ferry = setup.start();
    let cfg = sink_config(
        &setup,
        &topic,
        &[
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    let r = create_connector(&ferry, &sink, &cfg).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let out = setup.path("out.txt");
    eventually(
        Duration::from_secs(30),
        "two good records in the sink file",
        || async { read_lines(&out).len() >= 2 },
    )
    .await;
    assert_eq!(read_lines(&out), ["first", "third"]);
    let dead = tokio::task::block_in_place(|| broker.consume(&dlq, 1, Duration::from_secs(30)));
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.value.as_deref(), Some(&b"not json at all"[..]));
    assert_eq!(d.key, None);
    assert_eq!(d.header_str("__connect.errors.topic"), Some(topic.as_str()));
    assert_eq!(d.header_str("__connect.errors.partition"), Some("0"));
    assert_eq!(d.header_str("__connect.errors.offset"), Some("1"));
    assert_eq!(
        d.header_str("__connect.errors.connector.name"),
        Some(sink.as_str())
    );
    assert_eq!(d.header_str("__connect.errors.task.id"), Some("0"));
    assert_eq!(d.header_str("__connect.errors.stage"), Some("VALUE_CONVERTER"));
    assert_eq!(
        d.header_str("__connect.errors.class.name"),
        Some("org.apache.kafka.connect.json.JsonConverter")
    );
    assert!(d
        .header_str("__connect.errors.exception.message")
        .is_some_and(|m| !m.is_empty()));
    wait_state(&ferry, &sink, "RUNNING", &["RUNNING"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tolerance_a_poison_record_fails_the_task_with_a_readable_trace() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("poison", broker, &[]);
    let strict = setup.names.topic("strict");
    let topic = setup.names.topic("in");
    broker.create_topic(&topic, 1, &[]).await;
    broker.produce(&topic, &[(None, Some(b"{broken"))]).await;
    let ferry = setup.start();
    let cfg = sink_config(&setup, &topic, &[]);
    let r = create_connector(&ferry, &strict, &cfg).await;
    assert_eq!(r.status, 201);
    wait_state(&ferry, &strict, "RUNNING", &["FAILED"]).await;
    let status = call("GET", &ferry.url(&format!("/connectors/{strict}/status")), None).await;
    let trace = status.body["tasks"][0]["trace"].as_str().unwrap();
    assert!(trace.contains("Tolerance exceeded in error handler"), "{trace}");
    assert!(trace.contains("VALUE_CONVERTER"), "{trace}");
    assert!(
        trace.contains(&format!("topic={topic} partition=0 offset=0")),
        "{trace}"
    );
    // The worker still serves, and a task restart retries (and fails again, readably).
    assert_eq!(
        call(
            "POST",
            &ferry.url(&format!("/connectors/{strict}/tasks/0/restart")),
            None
        )
        .await
        .status,
        204
    );
    wait_state(&ferry, &strict, "RUNNING", &["FAILED"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_transform_config_is_refused_with_400() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("badsmt", broker, &[]);
    let topic = setup.names.topic("data");
    let ferry = setup.start();
    let mut cfg = source_config(&setup, "in.txt", &topic);
    cfg["transforms"] = json!("route,nope");
    cfg["transforms.route.type"] = json!("org.apache.kafka.connect.transforms.RegexRouter");
    cfg["transforms.route.regex"] = json!("(unclosed");
    cfg["transforms.route.replacement"] = json!("x");
    cfg["transforms.nope.type"] = json!("com.example.NoSuchTransform");
    let r = create_connector(&ferry, "smt", &cfg).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Connector configuration is invalid and contains the following 2 error(s):"),
        "{msg}"
    );
    assert!(
        msg.contains("transforms.route.regex") || msg.contains("(unclosed"),
        "{msg}"
    );
    assert!(msg.contains("com.example.NoSuchTransform"), "{msg}");
    assert_eq!(call("GET", &ferry.url("/connectors/smt"), None).await.status, 404);
}

#[test]
fn standalone_mode_runs_connectors_from_files_with_offsets_in_a_file() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("standalone", broker, &[]);
    let topic = setup.names.topic("lines");
    let port = ferry_test_support::net::free_port();
    write_lines(&setup.path("in.txt"), 1..=20);
    let worker = setup.path("standalone.properties");
    std::fs::write(
        &worker,
        format!(
            "bootstrap.servers={}\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n\
             value.converter=org.apache.kafka.connect.storage.StringConverter\n\
             offset.storage.file.filename={}\noffset.flush.interval.ms=200\nlisteners=http://127.0.0.1:{port}\n",
            broker.bootstrap,
            setup.path("offsets.jsonl").display()
        ),
    )
    .unwrap();
    let source = setup.path("source.properties");
    std::fs::write(
        &source,
        format!(
            "name=file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile={}\ntopic={topic}\n\
             topic.creation.default.partitions=1\ntopic.creation.default.replication.factor=1\n",
            setup.path("in.txt").display()
        ),
    )
    .unwrap();
    let sink = setup.path("sink.json");
    std::fs::write(
        &sink,
        json!({"name": "file-sink", "config": {"connector.class": "FileStreamSink", "topics": topic,
               "file": setup.path("out.txt").to_str().unwrap()}})
        .to_string(),
    )
    .unwrap();
    let run = |log: &str| {
        let out = std::fs::File::create(setup.path(log)).unwrap();
        std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
            .arg("standalone")
            .args([&worker, &source, &sink])
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap()
    };
    let wait_lines = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while read_lines(&setup.path("out.txt")).len() < n && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let stop = |mut child: std::process::Child| {
        unsafe {
            libc::kill(child.id() as i32, libc::SIGTERM);
        }
        assert!(child.wait().unwrap().success());
    };
    let child = run("first.log");
    wait_lines(20);
    stop(child);
    assert_eq!(read_lines(&setup.path("out.txt")).len(), 20);
    let stored = std::fs::read_to_string(setup.path("offsets.jsonl")).unwrap();
    assert!(stored.contains(r#"{\"position\":220}"#), "{stored}");

    // Restarted from the offsets file: only the new lines are read.
    write_lines(&setup.path("in.txt"), 21..=25);
    let child = run("second.log");
    wait_lines(25);
    std::thread::sleep(Duration::from_secs(1));
    stop(child);
    let want: Vec<String> = (1..=25).map(|i| format!("line-{i:05}")).collect();
    assert_eq!(read_lines(&setup.path("out.txt")), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sink_offsets_are_read_altered_and_reset_through_rest() {
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("sinkoffsets", broker, &[]);
    let sink = setup.names.topic("sink");
    let topic = setup.names.topic("in");
    broker.create_topic(&topic, 1, &[]).await;
    let recs: Vec<Vec<u8>> = (1..=3).map(|i| string_envelope(&format!("r{i}"))).collect();
    let kv: Vec<_> = recs.iter().map(|v| (None, Some(v.as_slice()))).collect();
    broker.produce(&topic, &kv).await;
    let ferry = setup.start();
    let cfg = sink_config(&setup, &topic, &[]);
    let r = create_connector(&ferry, &sink, &cfg).await;
    assert_eq!(r.status, 201);
    let want = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 3}}]});
    eventually_on(
        &ferry,
        Duration::from_secs(30),
        "committed sink offsets",
        || async {
            call("GET", &ferry.url(&format!("/connectors/{sink}/offsets")), None)
                .await
                .body
                == want
        },
    )
    .await;

    assert_eq!(
        call("PUT", &ferry.url(&format!("/connectors/{sink}/stop")), None)
            .await
            .status,
        204
    );
    wait_state(&ferry, &sink, "STOPPED", &[]).await;
    let alter = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]});
    let a = call(
        "PATCH",
        &ferry.url(&format!("/connectors/{sink}/offsets")),
        Some(&alter.to_string()),
    )
    .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    let got = call("GET", &ferry.url(&format!("/connectors/{sink}/offsets")), None).await;
    assert_eq!(got.body["offsets"][0]["offset"]["kafka_offset"], 1);

    // Resumed from offset 1, the sink re-reads r2 and r3.
    assert_eq!(
        call("PUT", &ferry.url(&format!("/connectors/{sink}/resume")), None)
            .await
            .status,
        202
    );
    let out = setup.path("out.txt");
    eventually_on(&ferry, Duration::from_secs(30), "replayed records", || async {
        read_lines(&out).len() >= 5
    })
    .await;
    assert_eq!(read_lines(&out), ["r1", "r2", "r3", "r2", "r3"]);

    assert_eq!(
        call("PUT", &ferry.url(&format!("/connectors/{sink}/stop")), None)
            .await
            .status,
        204
    );
    wait_state(&ferry, &sink, "STOPPED", &[]).await;
    let reset = call("DELETE", &ferry.url(&format!("/connectors/{sink}/offsets")), None).await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    let got = call("GET", &ferry.url(&format!("/connectors/{sink}/offsets")), None).await;
    assert_eq!(got.body, json!({"offsets": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_before_the_worker_has_started() {
    // A broker address nobody listens on: the worker cannot start, REST still answers.
    let dir = tempfile::tempdir().unwrap();
    let port = ferry_test_support::net::free_port();
    let dead = ferry_test_support::net::free_port();
    let props = dir.path().join("w.properties");
    std::fs::write(
        &props,
        format!(
            "bootstrap.servers=127.0.0.1:{dead}\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n\
             status.storage.topic=s\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\nlisteners=http://127.0.0.1:{port}\n"
        ),
    )
    .unwrap();
    let ferry = common::spawn_ferry(&props, port, &dir.path().join("ferry.log"), &[]);
    eventually(Duration::from_secs(10), "GET / before Kafka answers", || async {
        reqwest::get(ferry.url("/"))
            .await
            .is_ok_and(|r| r.status() == 200)
    })
    .await;
    let root = call("GET", &ferry.url("/"), None).await;
    assert_eq!(root.body["version"], ferry_core::versions::KAFKA_CONNECT);
    assert_eq!(
        root.body["commit"]
            .as_str()
            .map(|c| c.starts_with(&format!("ferry-{}", env!("CARGO_PKG_VERSION")))),
        Some(true)
    );
    assert!(!ferry.is_ready());
}
