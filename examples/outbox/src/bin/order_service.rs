//! `order-service`: places one order and its `OrderCreated` outbox event in one
//! transaction, and prints the result as one JSON line on stdout.
//!
//! ```sh
//! order-service --db 'host=postgres user=postgres password=postgres dbname=order_db' \
//!     --customer alice --total 42.50 [--fail-after-order-insert | --poison] [--table-less]
//! ```
//! `--table-less` writes the event as a logical decoding message instead of an outbox row.
//! Exit status: 0 committed, 3 rolled back by `--fail-after-order-insert`, 1 other errors.

use std::process::ExitCode;

use clap::Parser;
use outbox_lab::orders::{place_order, place_order_tableless, Mode, NewOrder, OrderError};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Writes an order and its outbox event in one transaction")]
struct Args {
    /// libpq-style connection string of the order database.
    #[arg(
        long,
        env = "ORDER_DB",
        default_value = "host=postgres port=5432 user=postgres password=postgres dbname=order_db"
    )]
    db: String,
    /// Customer id.
    #[arg(long, default_value = "alice")]
    customer: String,
    /// Order total (decimal).
    #[arg(long, default_value = "42.50")]
    total: String,
    /// Fail after inserting the order: the transaction rolls back, no event is published.
    #[arg(long, conflicts_with = "poison")]
    fail_after_order_insert: bool,
    /// Commit an event no consumer can process (its `total` is not a number).
    #[arg(long)]
    poison: bool,
    /// The table-less variant: the event goes out as a logical decoding message
    /// (`pg_logical_emit_message`) in the order's transaction, not as an outbox row.
    #[arg(long)]
    table_less: bool,
    /// Create the tables first (schema.sql; idempotent).
    #[arg(long)]
    apply_schema: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    outbox_lab::init_tracing();
    let args = Args::parse();
    match run(&args).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(OrderError::SimulatedFailure { order_id }) => {
            println!("{}", json!({"outcome": "rolled_back", "orderId": order_id}));
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("order-service: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<serde_json::Value, OrderError> {
    let mut db = outbox_lab::connect(&args.db).await?;
    if args.apply_schema {
        outbox_lab::apply_schema(&db).await?;
    }
    let mode = if args.fail_after_order_insert {
        Mode::FailAfterOrderInsert
    } else if args.poison {
        Mode::Poison
    } else {
        Mode::Commit
    };
    let order = NewOrder {
        customer_id: args.customer.clone(),
        total: args.total.clone(),
    };
    let placed = if args.table_less {
        place_order_tableless(&mut db, &order, mode).await?
    } else {
        place_order(&mut db, &order, mode).await?
    };
    Ok(json!({
        "outcome": "committed",
        "orderId": placed.order_id,
        "eventId": placed.event_id,
        "payload": placed.payload,
    }))
}
