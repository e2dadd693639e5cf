//! The demo, automated: orders (some rolled back, one poison pill) go through
//! PostgreSQL → ferry (the seed's connector JSON, verbatim) → `Order_events` → the
//! notification consumer, which is killed once before committing its offsets so
//! events are delivered twice. Every committed order is notified exactly once,
//! rolled-back orders never, and the poison pill lands in `orders_dlq`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ferry_test_support::netns::run_inside_private_network;
use outbox_lab::consumer::{Outcome, Report};
use outbox_lab::lab::{self, child, Binaries, Lab, LabOptions, Network, OrderRun};
use outbox_lab::{dlq, CONNECTOR_NAME, DLQ_TOPIC};

const TEST: &str = "committed_orders_are_notified_exactly_once_and_the_poison_pill_is_dead_lettered";

fn binaries() -> Binaries {
    let mut b = Binaries::in_dir(&lab::cargo_out_dir());
    b.order_service = env!("CARGO_BIN_EXE_order-service").into();
    b.notification_consumer = env!("CARGO_BIN_EXE_notification-consumer").into();
    b
}

#[test]
fn committed_orders_are_notified_exactly_once_and_the_poison_pill_is_dead_lettered() {
    if !binaries().ferry.is_file() {
        // `cargo test --workspace` builds it; `cargo test -p outbox-lab` may not have.
        lab::cargo_build(&["-p", "ferry"]).expect("build ferry");
    }
    if !run_inside_private_network(TEST, &["postgres"]) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(scenario());
}

fn reports(services: &[&child::Service]) -> Vec<Vec<Report>> {
    services
        .iter()
        .map(|s| {
            s.lines()
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .collect()
}

async fn scenario() {
    let started = Instant::now();
    let opts = LabOptions {
        binaries: binaries(),
        network: Network::PrivateNamespace,
    };
    let lab = Lab::start(opts, &|step| eprintln!("lab: {step}")).await.unwrap();
    assert_eq!(
        lab.connector_json(),
        outbox_lab::CONNECTOR_JSON,
        "posted verbatim"
    );
    lab.register_connector().await.unwrap();

    // 8 orders: #3 and #6 roll back, #7 is a poison pill.
    let mut runs: Vec<(OrderRun, bool)> = Vec::new();
    for i in 1..=8 {
        let customer = format!("customer-{i}");
        let total = format!("{i}.50");
        let mut args = vec!["--customer", &customer, "--total", &total];
        let poison = i == 7;
        match i {
            3 | 6 => args.push("--fail-after-order-insert"),
            7 => args.push("--poison"),
            _ => {}
        }
        let run = lab.order_service(&args).unwrap();
        runs.push((run, poison));
    }
    let rolled_back: Vec<i64> = runs
        .iter()
        .filter(|(r, _)| r.outcome == "rolled_back")
        .map(|(r, _)| r.order_id)
        .collect();
    assert_eq!(rolled_back.len(), 2, "{runs:?}");
    let committed: Vec<&OrderRun> = runs
        .iter()
        .filter(|(r, _)| r.outcome == "committed")
        .map(|(r, _)| r)
        .collect();
    let poison_id = runs
        .iter()
        .find(|(_, p)| *p)
        .and_then(|(r, _)| r.event_id.clone())
        .unwrap();
    let good: BTreeMap<String, i64> = committed
        .iter()
        .filter(|r| r.event_id.as_deref() != Some(&poison_id))
        .map(|r| (r.event_id.clone().unwrap(), r.order_id))
        .collect();
    assert_eq!(good.len(), 5);

    // Run 1 handles 3 records, commits no offset (commit every 100), and is SIGKILLed.
    let mut run1 = lab
        .start_consumer(1, &["--commit-every", "100", "--crash-after", "3"], None)
        .unwrap();
    let status = run1.wait_exit(Duration::from_secs(40)).expect("run 1 crashes");
    assert_eq!(
        child::describe(status),
        "killed by SIGKILL",
        "{}",
        run1.log_text()
    );
    let first = reports(&[&run1]).remove(0);
    assert_eq!(first.len(), 3, "{first:?}");

    // Run 2 gets every record again: run 1's are duplicates, the rest processed.
    let mut run2 = lab.start_consumer(2, &["--backoff-ms", "50"], None).unwrap();
    let all: BTreeSet<String> = committed.iter().filter_map(|r| r.event_id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(40);
    let second = loop {
        let second = reports(&[&run2]).remove(0);
        let seen: BTreeSet<String> = second.iter().filter_map(|r| r.event_id.clone()).collect();
        if all.is_subset(&seen) {
            break second;
        }
        assert!(
            Instant::now() < deadline,
            "run 2 did not see every event: {second:?}\n{}",
            run2.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stopped = run2.stop(Duration::from_secs(10)).expect("run 2 exits");
    assert!(stopped.success(), "run 2: {stopped:?}\n{}", run2.log_text());

    for r in &first {
        let again = second
            .iter()
            .find(|s| s.event_id == r.event_id)
            .expect("redelivered");
        let expected = if r.event_id.as_deref() == Some(&poison_id) {
            Outcome::DeadLettered
        } else {
            assert_eq!(r.outcome, Outcome::Processed, "{r:?}");
            Outcome::Duplicate
        };
        assert_eq!(again.outcome, expected, "{again:?}");
    }
    let poison_report = second
        .iter()
        .find(|r| r.event_id.as_deref() == Some(&poison_id))
        .unwrap();
    assert_eq!(
        (poison_report.outcome, poison_report.attempts),
        (Outcome::DeadLettered, 3)
    );

    // The database: exactly the committed good events, one notification each.
    let db = outbox_lab::connect(&lab.order_db()).await.unwrap();
    let processed: BTreeSet<String> = db
        .query("SELECT event_id::text FROM processed_events", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(processed, good.keys().cloned().collect::<BTreeSet<_>>());
    let notified: Vec<(i64, String, i64)> = db
        .query(
            "SELECT order_id, event_id::text, count(*) FROM notifications GROUP BY order_id, event_id ORDER BY order_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let expected: Vec<(i64, String, i64)> = good
        .iter()
        .map(|(e, o)| (*o, e.clone(), 1))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(notified, expected, "every committed order notified exactly once");
    for id in &rolled_back {
        let n: i64 = db
            .query_one(
                "SELECT (SELECT count(*) FROM orders WHERE id = $1) + (SELECT count(*) FROM outbox WHERE aggregate_id = $1::text) \
                 + (SELECT count(*) FROM notifications WHERE order_id = $1)",
                &[id],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "rolled-back order {id} left a trace");
    }

    // The poison pill in the DLQ, with the error and its origin in headers.
    let dead = tokio::task::block_in_place(|| lab.broker.consume_to_end(DLQ_TOPIC));
    assert!(!dead.is_empty(), "nothing in {DLQ_TOPIC}");
    for r in &dead {
        assert_eq!(r.header_str("id"), Some(poison_id.as_str()));
        let error = r.header_str(dlq::ERROR_HEADER).unwrap_or_default();
        assert!(error.starts_with("invalid OrderCreated payload"), "{error}");
        assert_eq!(r.header_str(dlq::ORIGINAL_TOPIC_HEADER), Some("Order_events"));
        assert_eq!(r.header_str(dlq::ATTEMPTS_HEADER), Some("3"));
    }

    let status = lab.rest.status(CONNECTOR_NAME).await.unwrap();
    assert_eq!(status["connector"]["state"], "RUNNING");
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    eprintln!("scenario took {:?}", started.elapsed());
    lab.stop();
}
