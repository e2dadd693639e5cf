//! HTTP behaviour of the router over an in-memory herder.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{app, send, send_bytes, send_with, TestHerder, SOURCE_CLASS};
use ferry_rest::entities::{InitialState, LoggerScope, State};
use serde_json::json;

fn herder() -> Arc<TestHerder> {
    Arc::new(
        TestHerder::new()
            .with_connector("local-file-source", State::Running)
            .with_connector("stopped-one", State::Stopped),
    )
}

const CREATE: &str = r#"{"name": " new-conn ", "config": {"connector.class": "FileStreamSource", "topic": "t", "tasks.max": 1}}"#;

#[tokio::test]
async fn root_reports_server_info() {
    let r = send(&app(herder()), "GET", "/", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.text(),
        r#"{"version":"3.9.0","commit":"ferry","kafka_cluster_id":"abc"}"#
    );
    assert_eq!(r.headers["content-type"], "application/json");
}

#[tokio::test]
async fn health_reports_healthy_starting_and_unhealthy() {
    let r = send(&app(herder()), "GET", "/health", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "healthy");

    for (ready, status, word) in [(false, 503, "starting"), (true, 500, "unhealthy")] {
        let h = Arc::new(TestHerder {
            hang_health: true,
            ready,
            ..TestHerder::new()
        });
        let opts = ferry_rest::RestOptions {
            health_check_timeout: Duration::from_millis(20),
            ..Default::default()
        };
        let r = send(&ferry_rest::router_with(h, opts), "GET", "/health", None).await;
        assert_eq!(r.status, status);
        assert_eq!(r.json()["status"], word);
    }
}

#[tokio::test]
async fn lists_connectors_plain_and_expanded() {
    let h = herder();
    h.ghosts.lock().unwrap().insert("deleted-meanwhile".into());
    let app = app(h);

    let r = send(&app, "GET", "/connectors", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!(["local-file-source", "stopped-one", "deleted-meanwhile"])
    );

    let r = send(&app, "GET", "/connectors?expand=status&expand=info", None).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let entry = v["local-file-source"].as_object().unwrap();
    assert_eq!(entry.keys().collect::<Vec<_>>(), ["status", "info"]);
    assert_eq!(entry["status"]["connector"]["state"], "RUNNING");
    assert_eq!(entry["info"]["config"]["connector.class"], SOURCE_CLASS);
    assert!(
        v.get("deleted-meanwhile").is_none(),
        "404s while expanding are skipped"
    );

    let r = send(&app, "GET", "/connectors?expand=info", None).await;
    assert_eq!(
        r.json()["stopped-one"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["info"]
    );

    let r = send(&app, "GET", "/connectors?expand=bogus", None).await;
    assert_eq!(r.json()["stopped-one"], json!({}));
}

#[tokio::test]
async fn create_returns_201_with_location_and_trims_the_name() {
    let h = herder();
    let app = app(h.clone());
    let r = send_with(
        &app,
        "POST",
        "/connectors",
        Some(CREATE),
        &[("content-type", "application/json"), ("host", "localhost:8083")],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.headers["location"], "http://localhost:8083/connectors/new-conn");
    let v = r.json();
    assert_eq!(v["name"], "new-conn");
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["name", "config", "tasks", "type"]
    );
    assert_eq!(v["config"]["tasks.max"], "1", "numbers are read as strings");
    assert_eq!(v["tasks"], json!([{"connector": "new-conn", "task": 0}]));
    assert_eq!(v["type"], "source");

    let seen = h.seen.lock().unwrap();
    let (name, config, state) = &seen.created[0];
    assert_eq!(name, "new-conn");
    assert_eq!(
        config["name"].as_deref(),
        Some("new-conn"),
        "name copied into config"
    );
    assert_eq!(config.keys().last().map(String::as_str), Some("name"));
    assert_eq!(*state, None);
}

#[tokio::test]
async fn create_passes_initial_state_and_encodes_location() {
    let h = herder();
    let body =
        r#"{"name": "a b", "config": {"connector.class": "X", "topic": "t"}, "initial_state": "stopped"}"#;
    let r = send(&app(h.clone()), "POST", "/connectors", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.headers["location"], "/connectors/a%20b");
    assert_eq!(h.seen.lock().unwrap().created[0].2, Some(InitialState::Stopped));
}

#[tokio::test]
async fn create_rejects_existing_names_and_mismatches() {
    let app = app(herder());
    let body = r#"{"name": "local-file-source", "config": {"connector.class": "X", "topic": "t"}}"#;
    send(&app, "POST", "/connectors", Some(body))
        .await
        .assert_error(409, "Connector local-file-source already exists");

    let body = r#"{"name": "a", "config": {"name": "b", "connector.class": "X"}}"#;
    send(&app, "POST", "/connectors", Some(body)).await.assert_error(
        400,
        "Connector name configuration (b) doesn't match connector name in the URL (a)",
    );
}

#[tokio::test]
async fn create_without_connector_class_is_the_herders_400() {
    let app = app(herder());
    let r = send(
        &app,
        "POST",
        "/connectors",
        Some(r#"{"name": "x", "config": {"topic": "t"}}"#),
    )
    .await;
    r.assert_error(
        400,
        "Connector config {topic=t, name=x} contains no connector type",
    );
}

#[tokio::test]
async fn invalid_config_lists_every_error() {
    let app = app(herder());
    let body = r#"{"name": "x", "config": {"connector.class": "FileStreamSource", "batch.size": "many"}}"#;
    let r = send(&app, "POST", "/connectors", Some(body)).await;
    r.assert_error(
        400,
        "Connector configuration is invalid and contains the following 2 error(s):\n\
         Missing required configuration \"topic\" which has no default value.\n\
         Invalid value many for configuration batch.size: Not a number of type INT\n\
         You can also find the above list of errors at the endpoint \
         `/connector-plugins/{connectorType}/config/validate`",
    );
}

#[tokio::test]
async fn malformed_and_misshapen_bodies_answer_500_like_connect() {
    let app = app(herder());
    let r = send(&app, "POST", "/connectors", Some(r#"{"name": "x", "#)).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error_code"], 500);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Malformed JSON"));

    let r = send(
        &app,
        "POST",
        "/connectors",
        Some(r#"{"name": "x", "config": {}, "extra": 1}"#),
    )
    .await;
    assert_eq!(r.status, 500);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Unrecognized field \"extra\""));

    let r = send(&app, "PUT", "/connectors/x/config", Some(r#"["a"]"#)).await;
    assert_eq!(r.status, 500);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .starts_with("Cannot deserialize value of type"));

    let r = send(&app, "POST", "/connectors", None).await;
    assert_eq!(r.status, 500, "an empty body reads as null");
}

/// Found by scripts/fuzz-rest.sh probes: Jackson reads these bodies, so Connect does not answer 500.
#[tokio::test]
async fn lone_surrogates_in_bodies_are_not_a_500() {
    let h = herder();
    let body =
        r#"{"name": "odd\ud800", "config": {"connector.class": "FileStreamSource", "topic": "t\udc00"}}"#;
    let r = send(&app(h.clone()), "POST", "/connectors", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["name"], "odd\u{fffd}");
    assert_eq!(r.json()["config"]["topic"], "t\u{fffd}");
    assert_eq!(r.headers["location"], "/connectors/odd%EF%BF%BD");

    let r = send(
        &app(h),
        "PUT",
        "/connectors/odd/config",
        Some(r#"{"connector.class": "FileStreamSource", "topic": "t", "\udfff": "\ud83d\ude00"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["config"]["\u{fffd}"], "\u{1f600}");
}

/// Jackson detects the encoding of a body (byte order marks, UTF-16, UTF-32); so does Ferry.
#[tokio::test]
async fn bodies_with_a_byte_order_mark_or_in_utf16_are_read() {
    let h = herder();
    let app = app(h.clone());
    let json = [("content-type", "application/json")];
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(CREATE.as_bytes());
    let r = send_bytes(&app, "POST", "/connectors", Some(&bom), &json).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["name"], "new-conn");

    let utf16: Vec<u8> = [0xFEFF]
        .into_iter()
        .chain(r#"{"level": "debug"}"#.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect();
    let r = send_bytes(
        &app,
        "PUT",
        "/admin/loggers/org.apache.kafka",
        Some(&utf16),
        &json,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(h.seen.lock().unwrap().logger_sets[0].1, "debug");

    // Bytes that are no text in the detected encoding stay a malformed body (500).
    let r = send_bytes(
        &app,
        "PUT",
        "/admin/loggers/x",
        Some(&[0, 0, 0, b'{', 0, 0x11, 0, 0]),
        &json,
    )
    .await;
    assert_eq!(r.status, 500, "{}", r.text());
}

#[tokio::test]
async fn non_json_content_type_is_415() {
    let r = send_with(
        &app(herder()),
        "POST",
        "/connectors",
        Some(CREATE),
        &[("content-type", "application/x-www-form-urlencoded")],
    )
    .await;
    r.assert_error(415, "HTTP 415 Unsupported Media Type");

    let r = send_with(&app(herder()), "POST", "/connectors", Some(CREATE), &[]).await;
    assert_eq!(r.status, 201, "no content type is accepted");
}

#[tokio::test]
async fn get_info_config_tasks_and_status() {
    let app = app(herder());
    let r = send(&app, "GET", "/connectors/local-file-source", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["tasks"][0]["task"], 0);

    let r = send(&app, "GET", "/connectors/local-file-source/config", None).await;
    assert_eq!(
        r.text(),
        format!(r#"{{"connector.class":"{SOURCE_CLASS}","topic":"t","name":"local-file-source"}}"#)
    );

    let r = send(&app, "GET", "/connectors/local-file-source/tasks", None).await;
    assert_eq!(
        r.json()[0]["id"],
        json!({"connector": "local-file-source", "task": 0})
    );
    assert_eq!(r.json()[0]["config"]["topic"], "t");

    // Kafka Connect 4.0 removed the deprecated /tasks-config (KIP-970).
    send(&app, "GET", "/connectors/local-file-source/tasks-config", None)
        .await
        .assert_error(404, "HTTP 404 Not Found");

    let r = send(&app, "GET", "/connectors/local-file-source/status", None).await;
    assert_eq!(
        r.text(),
        r#"{"name":"local-file-source","connector":{"state":"RUNNING","worker_id":"127.0.0.1:8083","version":"4.3.0"},"tasks":[{"id":0,"state":"RUNNING","worker_id":"127.0.0.1:8083","version":"4.3.0"}],"type":"source"}"#
    );

    let r = send(&app, "GET", "/connectors/local-file-source/tasks/0/status", None).await;
    assert_eq!(
        r.json(),
        json!({"id": 0, "state": "RUNNING", "worker_id": "127.0.0.1:8083", "version": "4.3.0"})
    );
}

#[tokio::test]
async fn unknown_connector_is_404_on_every_name_route() {
    let app = app(herder());
    let cases = [
        ("GET", "/connectors/nope", None, "Connector nope not found"),
        ("DELETE", "/connectors/nope", None, "Connector nope not found"),
        ("GET", "/connectors/nope/config", None, "Connector nope not found"),
        (
            "PATCH",
            "/connectors/nope/config",
            Some(r#"{"a":"b"}"#),
            "Connector nope not found",
        ),
        (
            "GET",
            "/connectors/nope/status",
            None,
            "No status found for connector nope",
        ),
        (
            "POST",
            "/connectors/nope/restart",
            None,
            "Unknown connector: nope",
        ),
        (
            "POST",
            "/connectors/nope/restart?includeTasks=true",
            None,
            "Unknown connector: nope",
        ),
        ("PUT", "/connectors/nope/pause", None, "Unknown connector nope"),
        ("PUT", "/connectors/nope/resume", None, "Unknown connector nope"),
        ("PUT", "/connectors/nope/stop", None, "Unknown connector nope"),
        ("GET", "/connectors/nope/tasks", None, "Connector nope not found"),
        (
            "GET",
            "/connectors/nope/tasks/0/status",
            None,
            "No status found for task nope-0",
        ),
        (
            "POST",
            "/connectors/nope/tasks/0/restart",
            None,
            "Unknown task: nope-0",
        ),
        (
            "GET",
            "/connectors/nope/offsets",
            None,
            "Connector nope not found",
        ),
        (
            "PATCH",
            "/connectors/nope/offsets",
            Some(r#"{"offsets":[{"partition":{},"offset":null}]}"#),
            "Connector nope not found",
        ),
        (
            "DELETE",
            "/connectors/nope/offsets",
            None,
            "Connector nope not found",
        ),
    ];
    for (method, uri, body, message) in cases {
        let r = send(&app, method, uri, body).await;
        assert_eq!(r.status, 404, "{method} {uri}: {}", r.text());
        r.assert_error(404, message);
    }
}

#[tokio::test]
async fn task_ids_that_are_not_ints_are_404() {
    let app = app(herder());
    for uri in [
        "/connectors/local-file-source/tasks/x/status",
        "/connectors/local-file-source/tasks/1.5/restart",
    ] {
        let method = if uri.ends_with("restart") { "POST" } else { "GET" };
        send(&app, method, uri, None)
            .await
            .assert_error(404, "HTTP 404 Not Found");
    }
}

#[tokio::test]
async fn put_config_is_201_when_created_and_200_when_updated() {
    let h = herder();
    let app = app(h.clone());
    let cfg = r#"{"connector.class": "FileStreamSource", "topic": "t2"}"#;
    let r = send_with(
        &app,
        "PUT",
        "/connectors/fresh/config",
        Some(cfg),
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "connect:8083"),
        ],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.headers["location"], "http://connect:8083/connectors/fresh");
    assert_eq!(r.json()["config"]["name"], "fresh");

    let r = send(&app, "PUT", "/connectors/fresh/config", Some(cfg)).await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("location").is_none());

    let r = send(
        &app,
        "PUT",
        "/connectors/fresh/config",
        Some(r#"{"name": "other", "connector.class": "X"}"#),
    )
    .await;
    r.assert_error(
        400,
        "Connector name configuration (other) doesn't match connector name in the URL (fresh)",
    );
}

#[tokio::test]
async fn put_config_with_null_value_is_rejected_by_validation() {
    let app = app(herder());
    let r = send(
        &app,
        "PUT",
        "/connectors/fresh/config",
        Some(r#"{"connector.class": "FileStreamSource", "topic": "t", "file": null}"#),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("\nNull value can not be supplied as the configuration value.\n"));
}

#[tokio::test]
async fn patch_merges_and_null_removes() {
    let app = app(herder());
    let r = send(
        &app,
        "PATCH",
        "/connectors/local-file-source/config",
        Some(r#"{"file": "/tmp/x", "topic": "t9", "batch.size": null}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["config"]["file"], "/tmp/x");
    assert_eq!(r.json()["config"]["topic"], "t9");
}

#[tokio::test]
async fn delete_is_204() {
    let app = app(herder());
    let r = send(&app, "DELETE", "/connectors/local-file-source", None).await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());
    send(&app, "GET", "/connectors/local-file-source", None)
        .await
        .assert_error(404, "Connector local-file-source not found");
}

#[tokio::test]
async fn restart_is_204_plain_and_202_with_flags() {
    let h = herder();
    let app = app(h.clone());
    let r = send(&app, "POST", "/connectors/local-file-source/restart", None).await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());
    let r = send(
        &app,
        "POST",
        "/connectors/local-file-source/restart?includeTasks=false&onlyFailed=false",
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(h.seen.lock().unwrap().restarts.len(), 2);

    let r = send(
        &app,
        "POST",
        "/connectors/local-file-source/restart?includeTasks=true",
        None,
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["connector"]["state"], "RESTARTING");
    assert_eq!(r.json()["tasks"][0]["state"], "RESTARTING");

    let r = send(
        &app,
        "POST",
        "/connectors/local-file-source/restart?onlyFailed=TRUE",
        None,
    )
    .await;
    assert_eq!(r.status, 202);
    let seen = h.seen.lock().unwrap();
    assert_eq!(seen.restart_requests.len(), 2);
    assert!(seen.restart_requests[0].include_tasks && !seen.restart_requests[0].only_failed);
    assert!(!seen.restart_requests[1].include_tasks && seen.restart_requests[1].only_failed);
}

#[tokio::test]
async fn restart_task_is_204() {
    let h = herder();
    let r = send(
        &app(h.clone()),
        "POST",
        "/connectors/local-file-source/tasks/0/restart",
        None,
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        h.seen.lock().unwrap().task_restarts[0].to_string(),
        "local-file-source-0"
    );
}

#[tokio::test]
async fn pause_resume_are_202_and_stop_is_204() {
    let app = app(herder());
    let r = send(&app, "PUT", "/connectors/local-file-source/pause", None).await;
    assert_eq!((r.status.as_u16(), r.raw.len()), (202, 0));
    let r = send(&app, "GET", "/connectors/local-file-source/status", None).await;
    assert_eq!(r.json()["connector"]["state"], "PAUSED");
    let r = send(&app, "PUT", "/connectors/local-file-source/resume", None).await;
    assert_eq!(r.status, 202);
    let r = send(&app, "PUT", "/connectors/local-file-source/stop", None).await;
    assert_eq!(r.status, 204);
    let r = send(&app, "GET", "/connectors/local-file-source", None).await;
    assert_eq!(r.json()["tasks"], json!([]));
}

#[tokio::test]
async fn topics_are_wrapped_by_name_and_forbidden_when_disabled() {
    let r = send(
        &app(herder()),
        "GET",
        "/connectors/local-file-source/topics",
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"local-file-source": {"topics": ["t"]}}));
    let r = send(
        &app(herder()),
        "PUT",
        "/connectors/local-file-source/topics/reset",
        None,
    )
    .await;
    assert_eq!(r.status, 202);

    let h = Arc::new(TestHerder {
        topic_tracking: false,
        ..TestHerder::new()
    });
    send(&app(h.clone()), "GET", "/connectors/x/topics", None)
        .await
        .assert_error(403, "Topic tracking is disabled.");
    send(&app(h), "PUT", "/connectors/x/topics/reset", None)
        .await
        .assert_error(403, "Topic tracking is disabled.");
}

#[tokio::test]
async fn offsets_get_alter_reset() {
    let app = app(herder());
    let r = send(&app, "GET", "/connectors/local-file-source/offsets", None).await;
    assert_eq!(
        r.text(),
        r#"{"offsets":[{"partition":{"filename":"/tmp/in"},"offset":{"position":42}}]}"#
    );

    let body = r#"{"offsets": [{"partition": {"filename": "/tmp/in"}, "offset": {"position": 7}}]}"#;
    send(&app, "PATCH", "/connectors/local-file-source/offsets", Some(body))
        .await
        .assert_error(
            400,
            "Connectors must be in the STOPPED state before their offsets can be modified. This can be \
             done for the specified connector by issuing a 'PUT' request to the \
             '/connectors/local-file-source/stop' endpoint",
        );

    let r = send(&app, "PATCH", "/connectors/stopped-one/offsets", Some(body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"message": "The offsets for this connector have been altered successfully"})
    );
    let r = send(&app, "GET", "/connectors/stopped-one/offsets", None).await;
    assert_eq!(r.json()["offsets"][0]["offset"]["position"], 7);

    let r = send(&app, "DELETE", "/connectors/stopped-one/offsets", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["message"],
        "The offsets for this connector have been reset successfully"
    );
}

#[tokio::test]
async fn alter_offsets_rejects_empty_and_misshapen_bodies() {
    let app = app(herder());
    let uri = "/connectors/stopped-one/offsets";
    for body in ["{}", r#"{"offsets": []}"#, r#"{"offsets": null}"#] {
        send(&app, "PATCH", uri, Some(body)).await.assert_error(
            400,
            "Partitions / offsets need to be provided for an alter offsets request",
        );
    }
    for (body, start) in [
        ("[]", "Cannot deserialize value"),
        (r#"{"key": []}"#, "Unrecognized field"),
        (r#"{"offsets": {}}"#, "Cannot deserialize value"),
        (r#"{"offsets": [123]}"#, "Cannot construct instance"),
        (r#"{"offsets": [{"key": "val"}]}"#, "Unrecognized field"),
        (r#"{"offsets": [{"partition": []}]}"#, "Cannot deserialize value"),
    ] {
        let r = send(&app, "PATCH", uri, Some(body)).await;
        assert_eq!(r.status, 500, "{body}");
        let msg = r.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.starts_with(start), "{body}: {msg}");
    }
}

#[tokio::test]
async fn plugins_default_to_connectors_only() {
    let app = app(herder());
    let r = send(&app, "GET", "/connector-plugins", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!([
            {"class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "3.9.0"},
            {"class": SOURCE_CLASS, "type": "source", "version": "3.9.0"}
        ])
    );
    let r = send(&app, "GET", "/connector-plugins?connectorsOnly=false", None).await;
    let all = r.json();
    assert_eq!(all.as_array().unwrap().len(), 5);
    assert_eq!(
        all[4],
        json!({"class": "org.apache.kafka.connect.storage.SimpleHeaderConverter", "type": "header_converter"})
    );
}

#[tokio::test]
async fn plugin_config_lists_definitions() {
    let app = app(herder());
    let r = send(&app, "GET", "/connector-plugins/FileStreamSource/config", None).await;
    assert_eq!(r.status, 200);
    let first = &r.json()[0];
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "name",
            "type",
            "required",
            "default_value",
            "importance",
            "documentation",
            "group",
            "order_in_group",
            "width",
            "display_name",
            "dependents"
        ]
    );
    assert_eq!(first["name"], "file");
    assert_eq!(first["required"], false);
    send(&app, "GET", "/connector-plugins/Nope/config", None)
        .await
        .assert_error(404, "Unknown plugin Nope.");
}

#[tokio::test]
async fn validate_checks_the_class_against_the_path() {
    let h = herder();
    let app = app(h.clone());
    let body = r#"{"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector"}"#;
    send(
        &app,
        "PUT",
        "/connector-plugins/FileStreamSourceConnector/config/validate",
        Some(body),
    )
    .await
    .assert_error(
        400,
        "Included connector type org.apache.kafka.connect.file.FileStreamSinkConnector does not \
             match request type FileStreamSourceConnector",
    );
    assert!(h.seen.lock().unwrap().validated.is_empty());

    for plugin in ["FileStreamSource", "FileStreamSourceConnector", SOURCE_CLASS] {
        let body = format!(r#"{{"connector.class": "{SOURCE_CLASS}", "batch.size": "x"}}"#);
        let r = send(
            &app,
            "PUT",
            &format!("/connector-plugins/{plugin}/config/validate"),
            Some(&body),
        )
        .await;
        assert_eq!(r.status, 200, "{plugin}: {}", r.text());
        let v = r.json();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["name", "error_count", "groups", "configs"]
        );
        assert_eq!(v["name"], SOURCE_CLASS);
        assert_eq!(v["error_count"], 2);
        let batch = &v["configs"][2];
        assert_eq!(batch["definition"]["name"], "batch.size");
        assert_eq!(
            batch["value"],
            json!({"name": "batch.size", "value": null, "recommended_values": [],
                   "errors": ["Invalid value x for configuration batch.size: Not a number of type INT"],
                   "visible": true})
        );
    }

    let r = send(
        &app,
        "PUT",
        "/connector-plugins/Anything/config/validate",
        Some(r#"{"topic": "t"}"#),
    )
    .await;
    r.assert_error(400, "Connector config {topic=t} contains no connector type");
}

#[tokio::test]
async fn loggers_list_get_and_set() {
    let h = herder();
    let app = app(h.clone());
    let r = send(&app, "GET", "/admin/loggers", None).await;
    assert_eq!(r.text(), r#"{"root":{"level":"INFO","last_modified":null}}"#);

    let r = send(&app, "GET", "/admin/loggers/org.apache.kafka", None).await;
    assert_eq!(r.json(), json!({"level": "INFO", "last_modified": null}));
    send(&app, "GET", "/admin/loggers/nope", None)
        .await
        .assert_error(404, "Logger nope not found.");

    let r = send(
        &app,
        "PUT",
        "/admin/loggers/org.apache.kafka",
        Some(r#"{"level": "debug"}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!(["org.apache.kafka"]));

    let r = send(
        &app,
        "PUT",
        "/admin/loggers/org.apache.kafka?scope=cluster",
        Some(r#"{"level": "WARN"}"#),
    )
    .await;
    assert_eq!(r.status, 204);
    let r = send(
        &app,
        "PUT",
        "/admin/loggers/root?scope=galaxy",
        Some(r#"{"level": "ERROR"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "unknown scopes fall back to worker");

    let seen = &h.seen.lock().unwrap().logger_sets;
    assert_eq!(
        seen[0],
        ("org.apache.kafka".into(), "debug".into(), LoggerScope::Worker)
    );
    assert_eq!(seen[1].2, LoggerScope::Cluster);
    assert_eq!(seen[2].2, LoggerScope::Worker);
}

#[tokio::test]
async fn logger_level_errors() {
    let app = app(herder());
    send(&app, "PUT", "/admin/loggers/root", Some(r#"{"level": "LOUD"}"#))
        .await
        .assert_error(404, "invalid log level 'LOUD'.");
    send(&app, "PUT", "/admin/loggers/root", Some(r#"{"lvl": "INFO"}"#))
        .await
        .assert_error(400, "Desired 'level' parameter was not specified in request.");
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405() {
    let app = app(herder());
    send(&app, "GET", "/nope", None)
        .await
        .assert_error(404, "HTTP 404 Not Found");
    send(&app, "GET", "/connectors/a/b/c", None)
        .await
        .assert_error(404, "HTTP 404 Not Found");
    let r = send(&app, "DELETE", "/connectors", None).await;
    r.assert_error(405, "HTTP 405 Method Not Allowed");
    let allow = r.headers.get("allow").map(|v| v.to_str().unwrap().to_owned());
    assert!(
        allow
            .as_deref()
            .is_some_and(|a| a.contains("GET") && a.contains("POST")),
        "{allow:?}"
    );
    send(&app, "POST", "/connectors/local-file-source/pause", None)
        .await
        .assert_error(405, "HTTP 405 Method Not Allowed");
    send(&app, "GET", "/connectors/local-file-source/restart", None)
        .await
        .assert_error(405, "HTTP 405 Method Not Allowed");
}

#[tokio::test]
async fn trailing_slashes_are_ignored() {
    let app = app(herder());
    let r = send(&app, "GET", "/connectors/", None).await;
    assert_eq!(r.status, 200);
    let r = send(&app, "GET", "/connectors/local-file-source/status/", None).await;
    assert_eq!(r.status, 200);
    let r = send(&app, "GET", "/connector-plugins/?connectorsOnly=false", None).await;
    assert_eq!(r.json().as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn slow_herder_calls_time_out_with_500() {
    let h = Arc::new(TestHerder {
        slow_connector: Some("slow".into()),
        ..TestHerder::new()
    });
    let opts = ferry_rest::RestOptions {
        request_timeout: Duration::from_millis(30),
        ..Default::default()
    };
    let app = ferry_rest::router_with(h, opts);
    send(&app, "GET", "/connectors/slow", None)
        .await
        .assert_error(500, "Request timed out");
}

#[tokio::test]
async fn percent_encoded_names_are_decoded() {
    let h = Arc::new(TestHerder::new().with_connector("a b/c", State::Running));
    let r = send(&app(h), "GET", "/connectors/a%20b%2Fc/status", None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name"], "a b/c");
}
