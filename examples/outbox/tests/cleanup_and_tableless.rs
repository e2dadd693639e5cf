//! The lab's two answers to the outbox table's upkeep, on the real pipeline (PostgreSQL 15,
//! Tansu, `ferry distributed`):
//!
//! - connector-cleanup.json: Ferry deletes published outbox rows itself; 1,500 orders
//!   arrive on `Order_events` while the table stays under 1,000 rows, then drains;
//! - connector-tableless.json: `order-service --table-less` writes no outbox row at all;
//!   its events still arrive on `Order_events`, keyed and with header `id`, and a
//!   rolled-back order sends nothing.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use outbox_lab::lab::{self, Binaries, Lab, LabOptions, Network};
use outbox_lab::orders::{place_order, Mode, NewOrder};
use outbox_lab::{event, kafka, ORDER_EVENTS_TOPIC};

/// Orders placed with the cleanup on.
const ORDERS: usize = 1500;

fn binaries() -> Binaries {
    let mut b = Binaries::in_dir(&lab::cargo_out_dir());
    b.order_service = env!("CARGO_BIN_EXE_order-service").into();
    b.notification_consumer = env!("CARGO_BIN_EXE_notification-consumer").into();
    b
}

async fn outbox_rows(db: &tokio_postgres::Client) -> i64 {
    db.query_one("SELECT count(*) FROM outbox", &[])
        .await
        .unwrap()
        .get(0)
}

/// Event ids on `Order_events` so far.
fn event_ids(lab: &Lab) -> BTreeSet<String> {
    lab.broker
        .consume_to_end(ORDER_EVENTS_TOPIC)
        .iter()
        .filter_map(|r| r.header_str("id").map(|s| s.trim_matches('"').to_owned()))
        .collect()
}

#[test]
fn cleanup_keeps_the_outbox_table_small_and_the_table_less_variant_needs_none() {
    if !binaries().ferry.is_file() {
        lab::cargo_build(&["-p", "ferry"]).expect("build ferry");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(scenario());
}

async fn scenario() {
    let opts = LabOptions {
        binaries: binaries(),
        network: Network::Host,
    };
    let lab = Lab::start(opts, &|step| eprintln!("lab: {step}")).await.unwrap();
    kafka::ensure_topic(&lab.broker.bootstrap, ORDER_EVENTS_TOPIC, 1)
        .await
        .unwrap();
    lab.register(outbox_lab::CLEANUP_CONNECTOR_JSON).await.unwrap();
    let mut db = outbox_lab::connect(&lab.order_db()).await.unwrap();

    // 1,500 orders at 200 a second; the table is sampled meanwhile.
    let mut placed = BTreeSet::new();
    let mut max_rows = 0;
    let began = Instant::now();
    for i in 0..ORDERS {
        let due = Duration::from_millis(5 * i as u64);
        if due > began.elapsed() {
            tokio::time::sleep(due - began.elapsed()).await;
        }
        let order = NewOrder {
            customer_id: format!("c{i}"),
            total: "1.00".into(),
        };
        placed.insert(place_order(&mut db, &order, Mode::Commit).await.unwrap().event_id);
        if i % 100 == 99 {
            max_rows = max_rows.max(outbox_rows(&db).await);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut seen, mut left) = (BTreeSet::new(), i64::MAX);
    while Instant::now() < deadline {
        seen = tokio::task::block_in_place(|| event_ids(&lab));
        left = outbox_rows(&db).await;
        if placed.is_subset(&seen) && left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "cleanup: {ORDERS} orders in {:?}, {} events on {ORDER_EVENTS_TOPIC}, outbox rows at most {max_rows} while writing, {left} after",
        began.elapsed(),
        seen.len()
    );
    assert!(placed.is_subset(&seen), "every order's event is on the topic");
    assert_eq!(left, 0, "every published row was deleted");
    assert!(
        max_rows < 1000,
        "rows went while orders were written: at most {max_rows}"
    );

    // The table-less variant: its own connector, no outbox row.
    lab.register(outbox_lab::TABLELESS_CONNECTOR_JSON).await.unwrap();
    let before = outbox_rows(&db).await;
    let mut tableless = Vec::new();
    for (customer, flag) in [
        ("tl-alice", None),
        ("tl-bob", Some("--fail-after-order-insert")),
        ("tl-carol", None),
    ] {
        let mut args = vec!["--table-less", "--customer", customer, "--total", "3.50"];
        args.extend(flag);
        let run = lab.order_service(&args).unwrap();
        tableless.push(run);
    }
    let committed: Vec<_> = tableless.iter().filter(|r| r.outcome == "committed").collect();
    assert_eq!(committed.len(), 2);
    let rolled_back = tableless.iter().find(|r| r.outcome == "rolled_back").unwrap();
    let want: BTreeSet<String> = committed.iter().filter_map(|r| r.event_id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let records = loop {
        let records = tokio::task::block_in_place(|| lab.broker.consume_to_end(ORDER_EVENTS_TOPIC));
        let ids: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r.header_str("id").map(|s| s.trim_matches('"').to_owned()))
            .collect();
        if want.is_subset(&ids) || Instant::now() > deadline {
            break records;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for run in &committed {
        let id = run.event_id.as_deref().unwrap();
        let r = records
            .iter()
            .find(|r| r.header_str("id").map(|s| s.trim_matches('"')) == Some(id))
            .unwrap_or_else(|| panic!("table-less event {id} not on {ORDER_EVENTS_TOPIC}"));
        assert_eq!(
            event::key_text(r.key.as_deref()).as_deref(),
            Some(run.order_id.to_string().as_str()),
            "keyed by aggregate id"
        );
        let e = event::parse_order_created(r.value.as_deref()).unwrap();
        assert_eq!(e.order_id, run.order_id);
        assert_eq!(e.customer_id, run.payload.as_ref().unwrap()["customerId"]);
        eprintln!(
            "table-less: order #{} event {id} value {}",
            run.order_id,
            r.value_str().unwrap_or_default()
        );
    }
    let rolled_key = rolled_back.order_id.to_string();
    assert!(
        records
            .iter()
            .all(|r| event::key_text(r.key.as_deref()).as_deref() != Some(rolled_key.as_str())),
        "a rolled-back table-less order sends nothing"
    );
    assert_eq!(
        outbox_rows(&db).await,
        before,
        "the table-less orders wrote no outbox row"
    );
    lab.stop();
}
