//! `notification-consumer`: the idempotent consumer of `Order_events` (group
//! `notification-service`) with retries and a dead letter topic. Prints one JSON
//! line per handled record on stdout ([`outbox_lab::consumer::Report`]); logs go
//! to stderr. SIGINT/SIGTERM: commit what was handled and exit.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use outbox_lab::consumer::{self, Settings};

#[derive(Parser)]
#[command(about = "Idempotent OrderCreated consumer with retries and a DLQ")]
struct Args {
    /// Kafka bootstrap servers.
    #[arg(long, env = "BOOTSTRAP_SERVERS", default_value = "kafka:9092")]
    bootstrap: String,
    /// libpq-style connection string of the notification database.
    #[arg(
        long,
        env = "NOTIFICATION_DB",
        default_value = "host=postgres port=5432 user=postgres password=postgres dbname=order_db"
    )]
    db: String,
    #[arg(long, default_value = outbox_lab::ORDER_EVENTS_TOPIC)]
    topic: String,
    #[arg(long, default_value = outbox_lab::CONSUMER_GROUP)]
    group: String,
    #[arg(long, default_value = outbox_lab::DLQ_TOPIC)]
    dlq_topic: String,
    /// Attempts per record before it is dead-lettered.
    #[arg(long, default_value_t = 3)]
    max_attempts: u32,
    /// Backoff after the first failure in milliseconds (doubles each retry).
    #[arg(long, default_value_t = 200)]
    backoff_ms: u64,
    /// Commit offsets after this many records.
    #[arg(long, default_value_t = 1)]
    commit_every: usize,
    /// Demo fault injection: SIGKILL itself after N records, before committing their offsets.
    #[arg(long)]
    crash_after: Option<usize>,
}

#[tokio::main]
async fn main() -> ExitCode {
    outbox_lab::init_tracing();
    let args = Args::parse();
    let settings = Settings {
        bootstrap: args.bootstrap,
        db: args.db,
        topic: args.topic,
        group: args.group,
        dlq_topic: args.dlq_topic,
        max_attempts: args.max_attempts,
        backoff: Duration::from_millis(args.backoff_ms),
        commit_every: args.commit_every,
        crash_after: args.crash_after,
    };
    let print = |r: &consumer::Report| {
        println!("{}", serde_json::to_string(r).expect("report serializes"));
    };
    match consumer::run(&settings, stop_signal(), print).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("notification-consumer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
