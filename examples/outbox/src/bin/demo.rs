//! `demo`: the outbox pattern end to end on this machine, in one command.
//!
//! ```sh
//! cargo run -p outbox-lab --bin demo            # or examples/outbox/demo.sh
//! ```
//! Builds ferry and the services, makes sure Tansu is installed, then (inside a
//! private network/mount/PID namespace where `postgres` is 127.0.0.1) starts
//! PostgreSQL, Tansu and `ferry distributed`, posts the seed's connector JSON
//! verbatim, places orders (one rolled back, one poison pill), runs the notification
//! consumer (killed once before committing), and prints what happened. Ctrl-C stops
//! everything it started.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use ferry_test_support::kafka::ConsumedRecord;
use outbox_lab::consumer::{Outcome, Report};
use outbox_lab::lab::{self, child, namespace, Binaries, Lab, LabOptions, Network, OrderRun};
use outbox_lab::orders::{place_order, Mode, NewOrder};
use outbox_lab::{
    dlq, event, kafka, CONNECTOR_NAME, DLQ_TOPIC, ORDER_DB, ORDER_EVENTS_TOPIC, TABLELESS_CONNECTOR_NAME,
};

#[derive(Parser)]
#[command(
    about = "Transactional outbox on Ferry: orders → outbox → ferry → Order_events → idempotent consumer"
)]
struct Args {
    /// Stay on the machine's network: PostgreSQL on a free port and the connector JSON
    /// posted with database.hostname/port patched (default: a private namespace and
    /// the seed JSON verbatim; needs root and unshare).
    #[arg(long)]
    no_namespace: bool,
    /// Keep everything running after the demo until Ctrl-C.
    #[arg(long)]
    keep_running: bool,
    /// Do not run `cargo build` (use the binaries next to this one).
    #[arg(long)]
    no_build: bool,
}

const STEPS: usize = 11;

/// Prints numbered progress lines.
struct Progress(Cell<usize>);

impl Progress {
    fn step(&self, what: &str) {
        self.0.set(self.0.get() + 1);
        println!("\n[{}/{STEPS}] {what}", self.0.get());
    }
}

fn main() -> ExitCode {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn,rdkafka=off".into());
    std::env::set_var("RUST_LOG", &filter);
    outbox_lab::init_tracing();
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match rt.block_on(run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("\ndemo failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if namespace::inside() {
        namespace::setup_inside(&["postgres"]).context("setting up the private namespace")?;
        return inner(&args, Network::PrivateNamespace, 2).await;
    }
    let progress = Progress(Cell::new(0));
    progress.step("building ferry, order-service and notification-consumer (cargo build)");
    if args.no_build {
        println!("  skipped (--no-build)");
    } else {
        lab::cargo_build_binaries()?;
    }
    let bins = Binaries::in_dir(&lab::cargo_out_dir());
    if !bins.missing().is_empty() {
        bail!("missing binaries: {:?} (run without --no-build)", bins.missing());
    }
    println!("  {}", bins.ferry.display());
    progress.step("Tansu (the Kafka-compatible broker of the demo)");
    ensure_tansu()?;
    if !args.no_namespace && namespace::available() {
        println!(
            "\n  entering a private network/mount/PID namespace: `postgres` resolves to 127.0.0.1,\n  \
             PostgreSQL listens on 5432, so connector.json is posted verbatim; every process\n  \
             started below dies with the demo"
        );
        let mut forwarded: Vec<String> = std::env::args().skip(1).collect();
        if !args.no_build {
            forwarded.push("--no-build".to_owned());
        }
        let status = namespace::run_self_inside(&forwarded).await?;
        return Ok(ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8));
    }
    if !args.no_namespace {
        println!("  (no private namespace here: not root or no unshare; using --no-namespace)");
    }
    inner(&args, Network::Host, 2).await
}

/// Installs tansu 0.6.0 with cargo when it is missing.
fn ensure_tansu() -> anyhow::Result<()> {
    let bin = std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".into());
    if let Ok(out) = Command::new(&bin).arg("--version").output() {
        if out.status.success() {
            println!("  {}", String::from_utf8_lossy(&out.stdout).trim());
            return Ok(());
        }
    }
    println!(
        "  installing: cargo install tansu --version 0.6.0 --locked --features dynostore (once; ~15 min)"
    );
    let status = Command::new("cargo")
        .args([
            "install",
            "tansu",
            "--version",
            "0.6.0",
            "--locked",
            "--features",
            "dynostore",
        ])
        .status()?;
    if !status.success() {
        bail!("cargo install tansu failed ({status})");
    }
    Ok(())
}

/// Runs the scenario until done, or until Ctrl-C / SIGTERM (then stops everything).
async fn inner(args: &Args, network: Network, steps_done: usize) -> anyhow::Result<ExitCode> {
    let progress = Progress(Cell::new(steps_done));
    let bins = Binaries::in_dir(&lab::cargo_out_dir());
    tokio::select! {
        r = scenario(args, network, bins, &progress) => r.map(|()| ExitCode::SUCCESS),
        _ = stop_signal() => {
            println!("\ninterrupted: stopping the consumer, ferry, Tansu and PostgreSQL");
            Ok(ExitCode::from(130))
        }
    }
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

/// The orders the demo places: customer, total, order-service flag.
const ORDERS: &[(&str, &str, Option<&str>)] = &[
    ("alice", "42.50", None),
    ("bob", "17.00", None),
    ("carol", "99.90", Some("--fail-after-order-insert")),
    ("dave", "5.25", None),
    ("erin", "12.00", Some("--poison")),
    ("frank", "230.00", None),
];

async fn scenario(
    args: &Args,
    network: Network,
    binaries: Binaries,
    progress: &Progress,
) -> anyhow::Result<()> {
    let lab = Lab::start(LabOptions { binaries, network }, &|m| progress.step(m)).await?;
    println!(
        "  REST API ready; logs in {} (removed at exit; see --keep-running)",
        lab.dir().display()
    );

    match network {
        Network::PrivateNamespace => {
            progress.step("POST /connectors  examples/outbox/connector.json (the seed's JSON, verbatim)")
        }
        Network::Host => progress.step(
            "POST /connectors  connector.json with database.hostname/port patched to the private PostgreSQL",
        ),
    }
    lab.register_connector().await?;
    println!(
        "  {CONNECTOR_NAME}: connector RUNNING, task 0 RUNNING (slot on {ORDER_DB}, table public.outbox)"
    );

    // One partition, as Kafka's default num.partitions=1 (Tansu's default is 3), so
    // the events are consumed in order and the story below reads in order.
    kafka::ensure_topic(&lab.broker.bootstrap, ORDER_EVENTS_TOPIC, 1).await?;
    println!("  created {ORDER_EVENTS_TOPIC} with 1 partition (Kafka's default; ferry would create it too)");

    progress.step("order service: each order and its OrderCreated outbox row in ONE transaction");
    let mut runs = Vec::new();
    for (customer, total, flag) in ORDERS {
        let mut a = vec!["--customer", customer, "--total", total];
        a.extend(flag.iter());
        let run = lab.order_service(&a)?;
        println!("  {}", describe_order(&run, customer, total, *flag));
        runs.push(run);
    }
    let committed: Vec<&OrderRun> = runs.iter().filter(|r| r.outcome == "committed").collect();
    let expected: BTreeSet<String> = committed.iter().filter_map(|r| r.event_id.clone()).collect();
    let events = tokio::task::block_in_place(|| {
        lab.broker
            .consume(ORDER_EVENTS_TOPIC, expected.len(), Duration::from_secs(60))
    });
    println!(
        "  ferry published {} records to {ORDER_EVENTS_TOPIC} (one per committed order)",
        events.len()
    );

    progress.step("notification consumer (group notification-service)");
    println!("  run 1 with --crash-after 2: dies (SIGKILL) right after its 2nd database commit, before committing that offset");
    let mut run1 = lab.start_consumer(1, &["--crash-after", "2"], Some(print_reports("run 1")))?;
    let status = run1
        .wait_exit(Duration::from_secs(60))
        .context("consumer run 1 did not crash")?;
    println!("  run 1 ended: {}", child::describe(status));
    println!("  run 2: restarted in the same group; resumes from the last committed offset");
    let mut run2 = lab.start_consumer(2, &[], Some(print_reports("run 2")))?;
    let deadline = Instant::now() + Duration::from_secs(90);
    let reports = loop {
        let (first, second) = (parse_reports(&run1.lines()), parse_reports(&run2.lines()));
        let seen: BTreeSet<String> = first
            .iter()
            .chain(&second)
            .filter_map(|r| r.event_id.clone())
            .collect();
        // Run 1's last record was never committed, so run 2 must see it again.
        let redelivered = first
            .last()
            .is_none_or(|last| second.iter().any(|r| r.event_id == last.event_id));
        if expected.is_subset(&seen) && redelivered {
            break first.into_iter().chain(second).collect::<Vec<Report>>();
        }
        if Instant::now() > deadline {
            bail!(
                "the consumer did not handle every event in time; log:\n{}",
                run2.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    run2.stop(Duration::from_secs(10));

    progress.step("what happened");
    show_results(&lab, &runs, &reports).await?;

    progress.step(
        "outbox cleanup: PUT connector-cleanup.json (outbox.cleanup.enabled=true), then 200 orders/s for 10 s",
    );
    show_cleanup(&lab).await?;

    progress.step("table-less outbox: connector-tableless.json, order-service --table-less");
    show_tableless(&lab).await?;

    if args.keep_running {
        println!(
            "\neverything is still running (REST {}); Ctrl-C to stop",
            lab.rest.base
        );
        std::future::pending::<()>().await;
    }
    lab.stop();
    println!("\ndone: consumer, ferry, Tansu and PostgreSQL stopped");
    Ok(())
}

/// Switches the cleanup on, places orders at 200/s for 10 s and prints the outbox
/// table's row count every second: it stays flat while the orders pile up.
async fn show_cleanup(lab: &Lab) -> anyhow::Result<()> {
    lab.reconfigure(outbox_lab::CLEANUP_CONNECTOR_JSON).await?;
    println!("  {CONNECTOR_NAME} now runs with outbox.cleanup.enabled=true, table public.outbox (docs/outbox-cleanup.md)");
    let mut db = outbox_lab::connect(&lab.order_db()).await?;
    let start_rows: i64 = db.query_one("SELECT count(*) FROM outbox", &[]).await?.get(0);
    println!("  outbox rows before: {start_rows}");
    let started = Instant::now();
    let mut placed = 0u64;
    let mut next_print = Duration::from_secs(1);
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        let order = NewOrder {
            customer_id: format!("load-{placed}"),
            total: "9.99".into(),
        };
        place_order(&mut db, &order, Mode::Commit).await?;
        placed += 1;
        let due = Duration::from_millis(5 * placed);
        if due > started.elapsed() {
            tokio::time::sleep(due - started.elapsed()).await;
        }
        if started.elapsed() >= next_print {
            let rows: i64 = db.query_one("SELECT count(*) FROM outbox", &[]).await?.get(0);
            samples.push(rows);
            println!(
                "  t={:>2}s  orders placed {placed:>5}   outbox rows {rows:>5}",
                next_print.as_secs()
            );
            next_print += Duration::from_secs(1);
        }
    }
    let wait_until = Instant::now() + Duration::from_secs(15);
    let rows = loop {
        let rows: i64 = db.query_one("SELECT count(*) FROM outbox", &[]).await?.get(0);
        if rows == 0 || Instant::now() > wait_until {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let events = tokio::task::block_in_place(|| lab.broker.consume_to_end(ORDER_EVENTS_TOPIC)).len();
    println!(
        "  {placed} orders placed; outbox rows never above {} and {rows} a moment after the last order; {ORDER_EVENTS_TOPIC} holds {events} records",
        samples.iter().max().copied().unwrap_or(0)
    );
    println!("  (Ferry's own deletes produce no events: each cleanup transaction is tagged and skipped)");
    Ok(())
}

/// Registers the table-less connector and places orders whose events are logical
/// decoding messages: they reach Order_events, and the outbox table never sees them.
async fn show_tableless(lab: &Lab) -> anyhow::Result<()> {
    lab.register(outbox_lab::TABLELESS_CONNECTOR_JSON).await?;
    println!(
        "  {TABLELESS_CONNECTOR_NAME}: RUNNING (slot tableless, publication with no tables, messages with prefix 'outbox';\n  \
         transforms DecodeLogicalDecodingMessageContent, then the seed's EventRouter settings)"
    );
    let db = outbox_lab::connect(&lab.order_db()).await?;
    let outbox_before: i64 = db.query_one("SELECT count(*) FROM outbox", &[]).await?.get(0);
    let mut runs = Vec::new();
    for (customer, total, flag) in [
        ("grace", "31.00", None),
        ("heidi", "8.75", Some("--fail-after-order-insert")),
        ("ivan", "64.20", None),
    ] {
        let mut a = vec!["--table-less", "--customer", customer, "--total", total];
        a.extend(flag.iter());
        let run = lab.order_service(&a)?;
        let head = format!("order #{:<4} {customer:<6} {total:>7}", run.order_id);
        if run.outcome == "rolled_back" {
            println!("  {head}  ROLLED BACK: the message rolled back with it");
        } else {
            println!(
                "  {head}  committed with pg_logical_emit_message(true, 'outbox', …), event {}",
                short(run.event_id.as_deref())
            );
        }
        runs.push(run);
    }
    let want: BTreeSet<String> = runs.iter().filter_map(|r| r.event_id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        let records = tokio::task::block_in_place(|| lab.broker.consume_to_end(ORDER_EVENTS_TOPIC));
        let found: Vec<ConsumedRecord> = records
            .into_iter()
            .filter(|r| {
                r.header_str("id")
                    .is_some_and(|id| want.contains(id.trim_matches('"')))
            })
            .collect();
        if found.len() >= want.len() || Instant::now() > deadline {
            break found;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    println!("  on {ORDER_EVENTS_TOPIC} (same topic, key and header id as the table's events):");
    for r in &found {
        println!(
            "    {}@{}  key={}  id={}  payload={}",
            r.partition,
            r.offset,
            event::key_text(r.key.as_deref()).unwrap_or_default(),
            r.header_str("id").unwrap_or("-"),
            payload_text(r)
        );
    }
    let outbox_after: i64 = db.query_one("SELECT count(*) FROM outbox", &[]).await?.get(0);
    println!("  outbox rows before and after these orders: {outbox_before} → {outbox_after}");
    if found.len() < want.len() {
        bail!("only {} of {} table-less events arrived", found.len(), want.len());
    }
    Ok(())
}

fn describe_order(run: &OrderRun, customer: &str, total: &str, flag: Option<&str>) -> String {
    let head = format!("order #{:<2} {customer:<6} {total:>7}", run.order_id);
    match (run.outcome.as_str(), flag) {
        ("rolled_back", _) => format!(
            "{head}  ROLLED BACK after the order insert (--fail-after-order-insert): no order, no event"
        ),
        (_, Some("--poison")) => format!(
            "{head}  committed, event {} is a POISON PILL (payload total {})",
            short(run.event_id.as_deref()),
            run.payload
                .as_ref()
                .map(|p| p["total"].to_string())
                .unwrap_or_default()
        ),
        _ => format!(
            "{head}  committed, event {} OrderCreated",
            short(run.event_id.as_deref())
        ),
    }
}

fn short(id: Option<&str>) -> String {
    id.map(|s| format!("{}…", &s[..8.min(s.len())]))
        .unwrap_or_else(|| "-".into())
}

fn parse_reports(lines: &[String]) -> Vec<Report> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Prints the consumer's report lines as they come.
fn print_reports(run: &'static str) -> child::LineHook {
    Box::new(move |line| {
        let Ok(r) = serde_json::from_str::<Report>(line) else {
            return;
        };
        let id = short(r.event_id.as_deref());
        let order = r.order_id.map(|o| format!("order #{o}")).unwrap_or_default();
        let at = format!("{ORDER_EVENTS_TOPIC}/{}@{}", r.partition, r.offset);
        match r.outcome {
            Outcome::Processed => println!("    [{run}] {at} event {id} {order}: notification recorded + event id in processed_events"),
            Outcome::Duplicate => println!("    [{run}] {at} event {id} {order}: DUPLICATE (already in processed_events) -> skipped, acknowledged"),
            Outcome::DeadLettered => println!(
                "    [{run}] {at} event {id}: failed {} times -> sent to {DLQ_TOPIC}: {}",
                r.attempts,
                r.error.as_deref().unwrap_or("")
            ),
        }
    })
}

async fn show_results(lab: &Lab, runs: &[OrderRun], reports: &[Report]) -> anyhow::Result<()> {
    let db = outbox_lab::connect(&lab.order_db()).await?;
    println!("\n  orders ({ORDER_DB}.orders):");
    for row in db
        .query("SELECT id, customer_id, total::text FROM orders ORDER BY id", &[])
        .await?
    {
        let (id, c, t): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
        println!("    #{id:<2} {c:<6} {t:>7}");
    }

    let events = tokio::task::block_in_place(|| lab.broker.consume_to_end(ORDER_EVENTS_TOPIC));
    println!("\n  {ORDER_EVENTS_TOPIC} (written by ferry; key = aggregate_id, header id = outbox.id):");
    for r in &events {
        println!(
            "    {}@{}  key={}  id={}  payload={}",
            r.partition,
            r.offset,
            event::key_text(r.key.as_deref()).unwrap_or_default(),
            r.header_str("id").unwrap_or("-"),
            payload_text(r)
        );
    }

    for run in runs.iter().filter(|r| r.outcome == "rolled_back") {
        let id = run.order_id;
        let in_orders: i64 = db
            .query_one("SELECT count(*) FROM orders WHERE id = $1", &[&id])
            .await?
            .get(0);
        let in_outbox: i64 = db
            .query_one(
                "SELECT count(*) FROM outbox WHERE aggregate_id = $1",
                &[&id.to_string()],
            )
            .await?
            .get(0);
        let on_topic = events
            .iter()
            .filter(|r| event::key_text(r.key.as_deref()).as_deref() == Some(&id.to_string()))
            .count();
        println!(
            "\n  rolled back: order #{id}: {in_orders} rows in orders, {in_outbox} in outbox, {on_topic} records on {ORDER_EVENTS_TOPIC}"
        );
    }

    println!("\n  notification service ({ORDER_DB}.notifications joined with processed_events):");
    let rows = db
        .query(
            "SELECT n.order_id, p.event_id::text, n.message, count(*) OVER (PARTITION BY n.order_id) \
             FROM notifications n JOIN processed_events p USING (event_id) ORDER BY n.order_id",
            &[],
        )
        .await?;
    for row in &rows {
        let (order, ev, msg, n): (i64, String, String, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        println!("    order #{order:<2} event {} x{n}  \"{msg}\"", short(Some(&ev)));
    }
    for r in reports.iter().filter(|r| r.outcome == Outcome::Duplicate) {
        println!(
            "  duplicate skipped: event {} (order #{}) was delivered again after run 1 was killed before its offset commit",
            short(r.event_id.as_deref()),
            r.order_id.unwrap_or_default()
        );
    }

    let dead = tokio::task::block_in_place(|| lab.broker.consume(DLQ_TOPIC, 1, Duration::from_secs(15)));
    println!("\n  {DLQ_TOPIC}:");
    for r in &dead {
        println!(
            "    key={} id={} payload={}",
            event::key_text(r.key.as_deref()).unwrap_or_default(),
            r.header_str("id").unwrap_or("-"),
            payload_text(r)
        );
        for h in [
            dlq::ERROR_HEADER,
            dlq::ATTEMPTS_HEADER,
            dlq::ORIGINAL_TOPIC_HEADER,
            dlq::ORIGINAL_PARTITION_HEADER,
            dlq::ORIGINAL_OFFSET_HEADER,
        ] {
            println!("      {h}: {}", r.header_str(h).unwrap_or("-"));
        }
    }

    let status = lab.rest.status(CONNECTOR_NAME).await?;
    println!("\n  GET /connectors/{CONNECTOR_NAME}/status:");
    for line in serde_json::to_string_pretty(&status)?.lines() {
        println!("    {line}");
    }
    Ok(())
}

fn payload_text(r: &ConsumedRecord) -> String {
    r.value
        .as_deref()
        .and_then(|v| event::connect_json(v).ok())
        .map(|v| v.to_string())
        .unwrap_or_else(|| r.value_str().unwrap_or("-").to_owned())
}
