//! Distributed mode on Kafka Connect's group protocol, through the binary: several Ferry
//! workers in one `group.id` spread connectors, take over a killed worker's share and
//! serve the whole REST API on every member. The data and internal topics live on Tansu;
//! the worker group's coordinator is librdkafka's mock cluster
//! (`ferry.group.bootstrap.servers`), whose coordinator expires a killed member (Tansu
//! 0.6's never does).

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{call, create_connector, eventually, poll_until, Ferry, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaApiKey;
use serde_json::{json, Value};

/// Held by the tests that must not share the machine's two cores with each other.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SESSION_MS: u64 = 6000;
const DELAY_MS: u64 = 3000;

/// A mock cluster whose group coordinator the workers use (flexible group versions
/// capped: the mock's are broken).
fn coordinator() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("mock cluster");
    cluster
        .apiversion(RDKafkaApiKey::JoinGroup, Some(0), Some(5))
        .unwrap();
    cluster
        .apiversion(RDKafkaApiKey::SyncGroup, Some(0), Some(3))
        .unwrap();
    cluster
        .apiversion(RDKafkaApiKey::LeaveGroup, Some(0), Some(2))
        .unwrap();
    cluster
}

fn setup(test: &str, broker: &Tansu, coordinator: &str) -> WorkerSetup {
    let session = SESSION_MS.to_string();
    let delay = DELAY_MS.to_string();
    WorkerSetup::new(
        test,
        broker,
        &[
            ("ferry.group.membership", "connect"),
            ("ferry.group.bootstrap.servers", coordinator),
            ("session.timeout.ms", &session),
            ("heartbeat.interval.ms", "1000"),
            ("rebalance.timeout.ms", "20000"),
            ("scheduled.rebalance.max.delay.ms", &delay),
        ],
    )
}

fn source_config(setup: &WorkerSetup, file: &str, topic: &str) -> Value {
    std::fs::write(setup.path(file), "").unwrap();
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": setup.path(file).to_str().unwrap(),
        "topic": topic,
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
    })
}

/// `GET /connectors?expand=status` of `f`: connector → (connector worker, state, [(task worker, state)]).
type Placement = BTreeMap<String, (String, String, Vec<(String, String)>)>;

async fn placement(f: &Ferry) -> Placement {
    let a = call("GET", &f.url("/connectors?expand=status"), None).await;
    let mut out = Placement::new();
    let Some(map) = a.body.as_object() else { return out };
    for (name, v) in map {
        let s = &v["status"];
        let tasks = s["tasks"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        (
                            t["worker_id"].as_str().unwrap_or_default().to_owned(),
                            t["state"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            name.clone(),
            (
                s["connector"]["worker_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                s["connector"]["state"].as_str().unwrap_or_default().to_owned(),
                tasks,
            ),
        );
    }
    out
}

/// Every connector RUNNING with one RUNNING task, none on `excluded` workers.
fn all_running(p: &Placement, n: usize, excluded: &[String]) -> bool {
    p.len() == n
        && p.values().all(|(w, s, tasks)| {
            s == "RUNNING"
                && !excluded.contains(w)
                && tasks.len() == 1
                && tasks
                    .iter()
                    .all(|(tw, ts)| ts == "RUNNING" && !excluded.contains(tw))
        })
}

fn per_worker(p: &Placement) -> BTreeMap<String, (usize, usize)> {
    let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (w, _, tasks) in p.values() {
        m.entry(w.clone()).or_default().0 += 1;
        for (tw, _) in tasks {
            m.entry(tw.clone()).or_default().1 += 1;
        }
    }
    m
}

/// The last 150 lines of a worker's log without the REST access lines and librdkafka's
/// configuration warnings, so the group's events show.
fn event_lines(w: &Ferry) -> String {
    let text = w.log_text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("\"GET /") && !l.contains("CONFWARN"))
        .collect();
    // `FERRY_TEST_FULL_LOGS=1` shows every line (with `FERRY_TEST_LOG` for a diagnosis).
    let keep = if std::env::var_os("FERRY_TEST_FULL_LOGS").is_some() {
        lines.len()
    } else {
        150
    };
    lines[lines.len().saturating_sub(keep)..].join("\n")
}

/// [`eventually`], showing the workers' logs on time-out.
async fn eventually_logged<F, Fut>(workers: &[&Ferry], timeout: Duration, what: &str, f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(
        poll_until(timeout, f).await,
        "timed out waiting for {what}\n{}",
        logs(workers)
    );
}

fn logs(workers: &[&Ferry]) -> String {
    workers
        .iter()
        .enumerate()
        .map(|(i, w)| format!("--- worker {i}\n{}", event_lines(w)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_spread_six_connectors_and_take_over_a_killed_one() {
    let _alone = HEAVY.lock().await;
    let broker = Tansu::shared();
    let coord = coordinator();
    let setup = setup("cluster3", broker, &coord.bootstrap_servers());
    let ports: Vec<u16> = (0..3).map(|_| ferry_test_support::net::free_port()).collect();
    let mut workers: Vec<Ferry> = ports
        .iter()
        .enumerate()
        .map(|(i, p)| setup.start_in_group(*p, &format!("w{i}")))
        .collect();
    for w in &mut workers {
        w.wait_ready();
    }
    let ids: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();

    for i in 0..6 {
        let topic = setup.names.topic(&format!("t{i}"));
        let cfg = source_config(&setup, &format!("in{i}.txt"), &topic);
        // Created through every worker in turn: the non-leaders forward to the leader.
        let r = create_connector(&workers[i % 3], &format!("c{i}"), &cfg).await;
        assert_eq!(
            r.status,
            201,
            "{:?}\n{}",
            r.body,
            logs(&workers.iter().collect::<Vec<_>>())
        );
    }
    let started = Instant::now();
    let mut last = Placement::new();
    let spread = async {
        loop {
            last = placement(&workers[0]).await;
            let counts = per_worker(&last);
            if all_running(&last, 6, &[]) && counts.len() == 3 && counts.values().all(|c| *c == (2, 2)) {
                return true;
            }
            if started.elapsed() > Duration::from_secs(90) {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    assert!(
        spread.await,
        "six connectors not spread 2/2/2: {last:?}\n{}",
        logs(&workers.iter().collect::<Vec<_>>())
    );
    eprintln!("spread 2/2/2 after {:?}", started.elapsed());
    // Two workers are followers and run connectors: their task configs went to the leader
    // (the only writer of the config topic) rather than being written by themselves.
    let senders = workers
        .iter()
        .filter(|w| w.log_text().contains("task configs sent to the leader"))
        .count();
    assert!(senders >= 2, "{}", logs(&workers.iter().collect::<Vec<_>>()));
    // Every worker answers the same listing.
    for w in &workers[1..] {
        let names = call("GET", &w.url("/connectors"), None).await;
        assert_eq!(names.body.as_array().map(Vec::len), Some(6), "{:?}", names.body);
    }

    // kill -9 of the third worker: its connectors and tasks move to the other two.
    let victim = ids[2].clone();
    let moved: Vec<String> = last
        .iter()
        .filter(|(_, (w, _, _))| *w == victim)
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(moved.len(), 2);
    workers[2].kill9();
    let killed = Instant::now();
    // Expiry (session.timeout.ms), then three rebalances: the lost work held back for the
    // scheduled delay, then placed, then the task configs its new owner's connector wrote
    // assigned. librdkafka's mock coordinator keeps each join open for
    // session.timeout.ms - 1 s (Kafka's answers once every member rejoined), so those
    // windows count too.
    let bound =
        Duration::from_millis(SESSION_MS + DELAY_MS + 3 * (SESSION_MS - 1000)) + Duration::from_secs(15);
    let mut last = Placement::new();
    while killed.elapsed() < bound {
        last = placement(&workers[0]).await;
        if all_running(&last, 6, std::slice::from_ref(&victim)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let took = killed.elapsed();
    assert!(
        all_running(&last, 6, std::slice::from_ref(&victim)),
        "the killed worker's work did not move within {bound:?}: {last:?}\n{}",
        logs(&[&workers[0], &workers[1]])
    );
    eprintln!(
        "killed worker's connectors {moved:?} RUNNING elsewhere after {took:?} \
         (session.timeout.ms {SESSION_MS} + scheduled.rebalance.max.delay.ms {DELAY_MS})"
    );
    assert!(
        took >= Duration::from_millis(SESSION_MS - 1000),
        "moved before the session could expire: {took:?}"
    );
    let counts = per_worker(&last);
    assert_eq!(counts.values().map(|c| c.0).sum::<usize>(), 6);
    assert!(counts.values().all(|c| c.0 == 3), "{counts:?}");

    // REST on both survivors (one of them is not the leader): create, read, pause, delete.
    let survivors = [&workers[0], &workers[1]];
    for (i, w) in workers[..2].iter().enumerate() {
        let name = format!("rest{i}");
        let topic = setup.names.topic(&name);
        let r = create_connector(w, &name, &source_config(&setup, &format!("{name}.txt"), &topic)).await;
        assert_eq!(r.status, 201, "{:?}\n{}", r.body, logs(&survivors));
        assert_eq!(r.body["name"], json!(name));
        let other = &workers[1 - i];
        eventually_logged(
            &survivors,
            Duration::from_secs(30),
            "the new connector RUNNING on the other worker",
            || async {
                let s = call("GET", &other.url(&format!("/connectors/{name}/status")), None).await;
                s.status == 200 && s.body["connector"]["state"] == json!("RUNNING")
            },
        )
        .await;
        // A worker reads the config topic at each rebalance (Connect's followers, too, see
        // a new connector only once their config consumer reached it).
        eventually_logged(
            &survivors,
            Duration::from_secs(30),
            "the new connector readable on its creator",
            || async {
                let info = call("GET", &w.url(&format!("/connectors/{name}")), None).await;
                info.status == 200 && info.body["config"]["topic"] == json!(topic)
            },
        )
        .await;
        let p = call("PUT", &w.url(&format!("/connectors/{name}/pause")), None).await;
        assert_eq!(p.status, 202, "{:?}", p.body);
        eventually_logged(
            &survivors,
            Duration::from_secs(30),
            "the connector PAUSED",
            || async {
                let s = call("GET", &other.url(&format!("/connectors/{name}/status")), None).await;
                s.body["connector"]["state"] == json!("PAUSED")
                    && s.body["tasks"]
                        .as_array()
                        .is_some_and(|t| t.iter().all(|t| t["state"] == json!("PAUSED")))
            },
        )
        .await;
        let d = call("DELETE", &w.url(&format!("/connectors/{name}")), None).await;
        assert_eq!(d.status, 204, "{:?}", d.body);
        eventually_logged(
            &survivors,
            Duration::from_secs(30),
            "the connector gone on both workers",
            || async {
                call("GET", &w.url(&format!("/connectors/{name}")), None)
                    .await
                    .status
                    == 404
                    && call("GET", &other.url(&format!("/connectors/{name}")), None)
                        .await
                        .status
                        == 404
            },
        )
        .await;
        // A connector that does not exist is Connect's 404, whoever serves it.
        let missing = call("DELETE", &w.url("/connectors/no-such-connector"), None).await;
        assert_eq!(missing.status, 404, "{:?}", missing.body);
    }
    drop(coord);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cleanly_stopped_worker_leaves_at_once() {
    let broker = Tansu::shared();
    let coord = coordinator();
    let setup = setup("cluster2", broker, &coord.bootstrap_servers());
    let ports: Vec<u16> = (0..2).map(|_| ferry_test_support::net::free_port()).collect();
    let mut a = setup.start_in_group(ports[0], "a");
    let mut b = setup.start_in_group(ports[1], "b");
    a.wait_ready();
    b.wait_ready();
    for i in 0..4 {
        let topic = setup.names.topic(&format!("t{i}"));
        let r = create_connector(
            &b,
            &format!("c{i}"),
            &source_config(&setup, &format!("in{i}.txt"), &topic),
        )
        .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    eventually(Duration::from_secs(90), "four connectors spread 2/2", || async {
        let p = placement(&a).await;
        let c = per_worker(&p);
        all_running(&p, 4, &[]) && c.len() == 2 && c.values().all(|c| *c == (2, 2))
    })
    .await;
    let b_id = format!("127.0.0.1:{}", ports[1]);
    assert!(b.terminate().success(), "{}", b.log_tail());
    let stopped = Instant::now();
    // A clean stop leaves the group: no session to wait for (the scheduled delay still applies).
    eventually(
        Duration::from_millis(DELAY_MS) + Duration::from_secs(15),
        "all four on a",
        || async { all_running(&placement(&a).await, 4, std::slice::from_ref(&b_id)) },
    )
    .await;
    eprintln!(
        "cleanly stopped worker's work RUNNING on the other after {:?}",
        stopped.elapsed()
    );
    drop(coord);
}

/// The last `session-key` record of the config topic (the leader writes it, KIP-507).
fn session_key(broker: &Tansu, topic: &str) -> Option<(ferry_rest::signature::SessionKey, String)> {
    let r = broker
        .consume_to_end(topic)
        .into_iter()
        .rev()
        .find(|r| r.key.as_deref() == Some(b"session-key".as_slice()))?;
    let text = String::from_utf8(r.value?).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(v["key"].as_str()?)
        .ok()?;
    Some((
        ferry_rest::signature::SessionKey {
            key,
            algorithm: v["algorithm"].as_str()?.to_owned(),
            creation_timestamp: v["creation-timestamp"].as_i64()?,
        },
        text,
    ))
}

/// `POST /connectors/NAME/tasks` with `headers`.
async fn post_tasks(f: &Ferry, name: &str, body: &str, headers: &[(&str, String)]) -> (u16, String) {
    internal(
        f,
        reqwest::Method::POST,
        &format!("/connectors/{name}/tasks"),
        body,
        headers,
    )
    .await
}

/// An internal request (`method` on `path`, JSON `body`) with `headers`.
async fn internal(
    f: &Ferry,
    method: reqwest::Method,
    path: &str,
    body: &str,
    headers: &[(&str, String)],
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .request(method, f.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let r = req.send().await.expect("internal request");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

/// KIP-507 on `sessioned`: the leader writes a `session-key` record as Connect's
/// `KafkaConfigBackingStore.putSessionKey` does; the internal task-config endpoint refuses
/// a missing (400) or wrong (403) signature on the leader and on a follower, and accepts a
/// request signed with the key (a follower checks it, then forwards it signed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_task_config_requests_must_carry_the_session_key_signature() {
    let broker = Tansu::shared();
    let coord = coordinator();
    let setup = setup("signing", broker, &coord.bootstrap_servers());
    let ports: Vec<u16> = (0..2).map(|_| ferry_test_support::net::free_port()).collect();
    let mut a = setup.start_in_group(ports[0], "a");
    let mut b = setup.start_in_group(ports[1], "b");
    a.wait_ready();
    b.wait_ready();
    let topic = setup.names.topic("t0");
    let r = create_connector(&a, "c0", &source_config(&setup, "in0.txt", &topic)).await;
    assert_eq!(r.status, 201, "{:?}\n{}", r.body, logs(&[&a, &b]));
    for w in [&a, &b] {
        eventually(Duration::from_secs(60), "c0 RUNNING on both workers", || async {
            let s = call("GET", &w.url("/connectors/c0/status"), None).await;
            s.status == 200 && s.body["connector"]["state"] == json!("RUNNING")
        })
        .await;
    }
    let configs_topic = setup.names.topic("configs");
    let mut found = None;
    eventually(Duration::from_secs(30), "a session-key record", || {
        found = session_key(broker, &configs_topic);
        let ok = found.is_some();
        async move { ok }
    })
    .await;
    let (key, text) = found.unwrap();
    eprintln!(
        "session-key record: {}",
        text.replace(&*base64_of(&key.key), "<key>")
    );
    assert_eq!(key.algorithm, "HmacSHA256");
    assert_eq!(key.key.len(), 32, "Java's default HmacSHA256 key size");
    assert!(
        text.starts_with(r#"{"key":""#)
            && text.contains(r#"","algorithm":"HmacSHA256","creation-timestamp":"#),
        "{text}"
    );
    let file = setup.path("in0.txt");
    let body = json!([{
        "task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
        "file": file.to_str().unwrap(),
        "topic": topic,
        "batch.size": "2000",
    }])
    .to_string();
    let good = ferry_rest::signature::headers("HmacSHA256", &key, body.as_bytes()).unwrap();
    let wrong_key = ferry_rest::signature::SessionKey::generate("HmacSHA256", None, 0).unwrap();
    let wrong = ferry_rest::signature::headers("HmacSHA256", &wrong_key, body.as_bytes()).unwrap();
    for w in [&a, &b] {
        let (status, text) = post_tasks(w, "c0", &body, &[]).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains("Internal request missing required signature"),
            "{text}"
        );
        let (status, text) = post_tasks(w, "c0", &body, &wrong).await;
        assert_eq!(status, 403, "{text}");
        assert!(
            text.contains("Internal request contained invalid signature."),
            "{text}"
        );
        let (status, text) = post_tasks(w, "c0", &body, &good).await;
        assert_eq!(status, 204, "{text}\n{}", logs(&[&a, &b]));
    }
    // What was accepted is stored: the connector's tasks carry the posted batch.size (on
    // the follower too, once the write's rebalance made it re-read the config topic).
    for w in [&a, &b] {
        eventually(
            Duration::from_secs(30),
            "the posted task config stored",
            || async {
                let tasks = call("GET", &w.url("/connectors/c0/tasks"), None).await;
                tasks.body[0]["config"]["batch.size"] == json!("2000")
            },
        )
        .await;
    }

    // PUT /connectors/NAME/fence, signed over its empty body as Connect's RestClient signs
    // it: refused unsigned or wrongly signed; the leader (directly or through the
    // follower) has nothing to fence for a source connector (204) and 404s an unknown one.
    let fence_good = ferry_rest::signature::headers("HmacSHA256", &key, b"").unwrap();
    let fence_wrong = ferry_rest::signature::headers("HmacSHA256", &wrong_key, b"").unwrap();
    let put = reqwest::Method::PUT;
    for w in [&a, &b] {
        let (status, text) = internal(w, put.clone(), "/connectors/c0/fence", "", &[]).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains("Internal request missing required signature"),
            "{text}"
        );
        let (status, text) = internal(w, put.clone(), "/connectors/c0/fence", "", &fence_wrong).await;
        assert_eq!(status, 403, "{text}");
        let (status, text) = internal(w, put.clone(), "/connectors/c0/fence", "", &fence_good).await;
        assert_eq!(status, 204, "{text}\n{}", logs(&[&a, &b]));
        let (status, text) = internal(w, put.clone(), "/connectors/nope/fence", "", &fence_good).await;
        assert_eq!(status, 404, "{text}");
        assert!(text.contains("Connector nope not found"), "{text}");
    }

    // forward=false (a request already forwarded once): the leader serves it, the follower
    // answers Connect's 409 instead of a third hop.
    let mut answers = Vec::new();
    for w in [&a, &b] {
        let r = call("PUT", &w.url("/connectors/c0/pause?forward=false"), None).await;
        answers.push((r.status, r.body));
    }
    answers.sort_by_key(|(s, _)| *s);
    assert_eq!(answers[0].0, 202, "{answers:?}");
    assert_eq!(answers[1].0, 409, "{answers:?}");
    assert_eq!(
        answers[1].1["message"],
        json!("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")
    );
    drop(coord);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The worker's log lines about its group and its warnings.
fn group_lines(f: &Ferry) -> String {
    f.log_text()
        .lines()
        .filter(|l| {
            (l.contains("group") || l.contains("WARN") || l.contains("ERROR")) && !l.contains("CONFWARN")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET /connectors?expand=status` of any worker's base URL.
async fn placement_at(base: &str) -> Placement {
    let a = call("GET", &format!("{base}/connectors?expand=status"), None).await;
    let mut out = Placement::new();
    let Some(map) = a.body.as_object() else { return out };
    for (name, v) in map {
        let s = &v["status"];
        let tasks = s["tasks"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        (
                            t["worker_id"].as_str().unwrap_or_default().to_owned(),
                            t["state"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.insert(
            name.clone(),
            (
                s["connector"]["worker_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                s["connector"]["state"].as_str().unwrap_or_default().to_owned(),
                tasks,
            ),
        );
    }
    out
}

/// A Ferry worker and the real Kafka Connect 4.3 worker in one group on Tansu (whose
/// coordinator handles joins and clean leaves): the JVM worker leads first and Ferry's
/// requests are forwarded to it; after the JVM worker stops cleanly Ferry leads, and a new
/// JVM worker joins the Ferry-led group, gets work and forwards its requests to Ferry.
/// Not run beside the timed kill test: a starting JVM takes both cores for seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ferry_worker_and_a_kafka_connect_worker_share_a_group() {
    let _alone = HEAVY.lock().await;
    use ferry_test_support::realconnect::RealConnect;
    use ferry_test_support::worker::WorkerProps;

    let broker = Tansu::shared();
    let dir = tempfile::tempdir().unwrap();
    let prefix = ferry_test_support::worker::unique("mixed");
    let props = |port: u16| {
        let mut p = WorkerProps::new(&prefix, &broker.bootstrap, port);
        // sessioned: internal requests signed with the session key (KIP-507); keys live
        // 15 s, so the JVM leader, then the Ferry leader, write new ones during the test.
        p.set("connect.protocol", "sessioned")
            .set("inter.worker.key.ttl.ms", "15000")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            .set("scheduled.rebalance.max.delay.ms", "2000")
            .set("rest.advertised.host.name", "127.0.0.1")
            .set("rest.advertised.port", port.to_string());
        p
    };
    let file_source = |name: &str| {
        let file = dir.path().join(format!("{name}.txt"));
        std::fs::write(&file, "").unwrap();
        json!({"name": name, "config": {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": file.to_str().unwrap(),
            "topic": format!("{prefix}-{name}"),
        }})
        .to_string()
    };

    // 1. A JVM worker forms the group and leads it.
    let jvm_port = ferry_test_support::net::free_port();
    let jvm_props = dir.path().join("jvm.properties");
    props(jvm_port).write(&jvm_props);
    let jvm = RealConnect::start(&jvm_props, jvm_port, &dir.path().join("jvm.log")).expect("Kafka Connect");
    let jvm_id = format!("127.0.0.1:{jvm_port}");

    // 2. A Ferry worker joins it.
    let ferry_port = ferry_test_support::net::free_port();
    let ferry_props = dir.path().join("ferry.properties");
    let mut fp = props(ferry_port);
    fp.set("ferry.group.membership", "connect")
        .set("batch.num.messages", "1");
    fp.write(&ferry_props);
    let mut ferry = common::spawn_ferry(&ferry_props, ferry_port, &dir.path().join("ferry.log"), &[]);
    ferry.wait_ready();
    let ferry_id = format!("127.0.0.1:{ferry_port}");
    assert!(
        ferry.log_text().contains("leader=false"),
        "Ferry joined the JVM-led group as a follower:\n{}",
        ferry.log_tail()
    );

    // Created through Ferry (forwarded to the JVM leader) and through the JVM worker.
    let r = call("POST", &ferry.url("/connectors"), Some(&file_source("m0"))).await;
    assert_eq!(
        r.status,
        201,
        "{:?}\n{}\n{}",
        r.body,
        ferry.log_tail(),
        jvm.log_tail()
    );
    let r = call("POST", &jvm.url("/connectors"), Some(&file_source("m1"))).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let mut last = Placement::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        last = placement_at(&jvm.base).await;
        let counts = per_worker(&last);
        if all_running(&last, 2, &[]) && counts.contains_key(&jvm_id) && counts.contains_key(&ferry_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        all_running(&last, 2, &[]) && per_worker(&last).len() == 2,
        "work not shared between the JVM and the Ferry worker: {last:?}\nFERRY:\n{}\nJVM:\n{}",
        ferry.log_tail(),
        jvm.log_tail()
    );
    eprintln!("JVM-led group: {:?}", per_worker(&last));
    let listed = call("GET", &ferry.url("/connectors"), None).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2), "{:?}", listed.body);

    // 3. The JVM worker stops cleanly: Ferry leads and runs everything.
    unsafe {
        libc::kill(jvm.pid() as i32, libc::SIGTERM);
    }
    let stopped = Instant::now();
    let jvm_pid = jvm.pid() as i32;
    let exited = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        // The JVM worker is our child: reap it to see when it has left.
        let mut status = 0;
        unsafe { libc::waitpid(jvm_pid, &mut status, 0) };
        started.elapsed()
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        last = placement(&ferry).await;
        if all_running(&last, 2, std::slice::from_ref(&jvm_id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        all_running(&last, 2, std::slice::from_ref(&jvm_id)),
        "Ferry did not take over: {last:?}\n{}\nJVM:\n{}",
        group_lines(&ferry),
        jvm.log_tail()
    );
    eprintln!("the JVM worker exited {:?} after SIGTERM", exited.await.unwrap());
    eprintln!(
        "the JVM leader stopped: Ferry leads and runs everything after {:?}",
        stopped.elapsed()
    );
    assert!(ferry.log_text().contains("leader=true"), "{}", ferry.log_tail());

    // 4. A new JVM worker joins the Ferry-led group and gets a share.
    let jvm2_port = ferry_test_support::net::free_port();
    let jvm2_props = dir.path().join("jvm2.properties");
    props(jvm2_port).write(&jvm2_props);
    let jvm2 =
        RealConnect::start(&jvm2_props, jvm2_port, &dir.path().join("jvm2.log")).expect("Kafka Connect");
    let jvm2_id = format!("127.0.0.1:{jvm2_port}");
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        last = placement_at(&jvm2.base).await;
        if all_running(&last, 2, &[]) && per_worker(&last).contains_key(&jvm2_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        all_running(&last, 2, &[]) && per_worker(&last).contains_key(&jvm2_id),
        "the JVM worker got no share from the Ferry leader: {last:?}\nFERRY:\n{}\nJVM:\n{}",
        ferry.log_tail(),
        jvm2.log_tail()
    );
    eprintln!("Ferry-led group: {:?}", per_worker(&last));
    // A request to the JVM follower is forwarded to the Ferry leader.
    let r = call("POST", &jvm2.url("/connectors"), Some(&file_source("m2"))).await;
    assert_eq!(r.status, 201, "{:?}\n{}", r.body, jvm2.log_tail());
    eventually(Duration::from_secs(60), "m2 listed on both workers", || async {
        let a = call("GET", &ferry.url("/connectors"), None).await;
        let b = call("GET", &jvm2.url("/connectors"), None).await;
        a.body.as_array().map(Vec::len) == Some(3) && b.body.as_array().map(Vec::len) == Some(3)
    })
    .await;
    // Its tasks run wherever the Ferry leader put the connector: when that is the JVM
    // worker, the task configs reached the leader through POST /connectors/m2/tasks.
    let mut last = Placement::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        last = placement(&ferry).await;
        if all_running(&last, 3, &[]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        all_running(&last, 3, &[]),
        "m2 not running: {last:?}\n{}\nJVM:\n{}",
        group_lines(&ferry),
        jvm2.log_tail()
    );
    eprintln!("m2 placed on {:?}", last["m2"]);
    let keys: Vec<String> = broker
        .consume_to_end(&format!("{prefix}-configs"))
        .into_iter()
        .filter(|r| r.key.as_deref() == Some(b"session-key".as_slice()))
        .filter_map(|r| r.value.map(|v| String::from_utf8_lossy(&v).into_owned()))
        .collect();
    eprintln!(
        "{} session-key records, the first (JVM leader): {:?}; Ferry wrote {}",
        keys.len(),
        keys.first(),
        ferry.log_text().matches("distributed a new session key").count()
    );
    // When the JVM worker ran m2 while Ferry led, its task configs reached Ferry as a
    // signed internal request, which Ferry accepted. (Tansu may also hand the lead to the
    // JVM worker for a generation, which then writes them itself.)
    let posted: Vec<String> = ferry
        .log_text()
        .lines()
        .filter(|l| l.contains("POST /connectors/m2/tasks"))
        .map(str::to_owned)
        .collect();
    eprintln!("signed task configs on the Ferry leader: {posted:?}");
    assert!(posted.iter().all(|l| l.contains("status=204")), "{posted:?}");
    assert!(ferry.terminate().success());
}
