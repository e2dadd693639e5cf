//! The order service's one write: an order and its `OrderCreated` outbox event in
//! ONE transaction, so either both are committed or neither is.

use serde_json::{json, Value};
use tokio_postgres::Client;

/// An order to place.
#[derive(Clone, Debug)]
pub struct NewOrder {
    /// Who ordered.
    pub customer_id: String,
    /// Amount as decimal text (`42.50`), stored as `NUMERIC(10,2)`.
    pub total: String,
}

/// How the order transaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Insert the order and its event, commit.
    Commit,
    /// Insert the order, then fail before the outbox insert: the transaction rolls back.
    FailAfterOrderInsert,
    /// Commit an event whose payload no consumer can process (a poison pill, as a
    /// buggy release would write: `total` is not a number).
    Poison,
}

/// A committed order and its event.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedOrder {
    pub order_id: i64,
    /// The outbox row's `id`; the EventRouter sends it in header `id`.
    pub event_id: String,
    /// The event payload as written to `outbox.payload`.
    pub payload: Value,
}

/// Why an order was not placed.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error("database error: {0}")]
    Db(#[from] tokio_postgres::Error),
    #[error("total {0:?} is not a decimal amount")]
    BadTotal(String),
    /// The `--fail-after-order-insert` failure; the transaction was rolled back.
    #[error("simulated failure after inserting order {order_id}: transaction rolled back")]
    SimulatedFailure { order_id: i64 },
}

/// The `OrderCreated` payload of an order (what the notification service reads).
pub fn order_created_payload(order_id: i64, order: &NewOrder) -> Result<Value, OrderError> {
    let total: serde_json::Number = order
        .total
        .parse()
        .map_err(|_| OrderError::BadTotal(order.total.clone()))?;
    Ok(json!({"orderId": order_id, "customerId": order.customer_id, "total": total}))
}

/// Writes the order and its outbox event in one transaction (see [`Mode`]).
pub async fn place_order(db: &mut Client, order: &NewOrder, mode: Mode) -> Result<PlacedOrder, OrderError> {
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO orders (customer_id, total) VALUES ($1, $2::text::numeric) RETURNING id",
            &[&order.customer_id, &order.total],
        )
        .await?;
    let order_id: i64 = row.get(0);
    tracing::info!(order_id, customer = %order.customer_id, "order inserted");
    if mode == Mode::FailAfterOrderInsert {
        tx.rollback().await?;
        tracing::warn!(order_id, "simulated failure: rolled back the order transaction");
        return Err(OrderError::SimulatedFailure { order_id });
    }
    let mut payload = order_created_payload(order_id, order)?;
    if mode == Mode::Poison {
        payload["total"] = json!(format!("{} EUR", order.total));
    }
    let row = tx
        .query_one(
            "INSERT INTO outbox (id, aggregate_type, aggregate_id, event_type, payload) \
             VALUES (gen_random_uuid(), 'Order', $1, 'OrderCreated', $2::text::jsonb) RETURNING id::text",
            &[&order_id.to_string(), &payload.to_string()],
        )
        .await?;
    let event_id: String = row.get(0);
    tx.commit().await?;
    tracing::info!(order_id, %event_id, "order and OrderCreated event committed");
    Ok(PlacedOrder {
        order_id,
        event_id,
        payload,
    })
}

/// The table-less variant: the order row, and its `OrderCreated` event as a transactional
/// logical decoding message (`pg_logical_emit_message(true, 'outbox', …)`) in the same
/// transaction, instead of an outbox row. The message is in the WAL only: it commits or
/// rolls back with the order, Ferry reads it from the slot, and there is no table to clean
/// up. Its JSON has the outbox table's column names, so the seed's EventRouter settings
/// route it once `DecodeLogicalDecodingMessageContent` has turned it into a row
/// (connector-tableless.json).
pub async fn place_order_tableless(
    db: &mut Client,
    order: &NewOrder,
    mode: Mode,
) -> Result<PlacedOrder, OrderError> {
    let tx = db.transaction().await?;
    let row = tx
        .query_one(
            "INSERT INTO orders (customer_id, total) VALUES ($1, $2::text::numeric) RETURNING id, gen_random_uuid()::text",
            &[&order.customer_id, &order.total],
        )
        .await?;
    let order_id: i64 = row.get(0);
    let event_id: String = row.get(1);
    if mode == Mode::FailAfterOrderInsert {
        tx.rollback().await?;
        tracing::warn!(order_id, "simulated failure: rolled back the order transaction");
        return Err(OrderError::SimulatedFailure { order_id });
    }
    let mut payload = order_created_payload(order_id, order)?;
    if mode == Mode::Poison {
        payload["total"] = json!(format!("{} EUR", order.total));
    }
    let message = tableless_message(&event_id, order_id, &payload);
    tx.execute(
        "SELECT pg_logical_emit_message(true, $1, $2::text)",
        &[&TABLELESS_PREFIX, &message.to_string()],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(order_id, %event_id, "order committed with its OrderCreated event as a logical decoding message");
    Ok(PlacedOrder {
        order_id,
        event_id,
        payload,
    })
}

/// The prefix of the table-less variant's messages (`message.prefix.include.list`).
pub const TABLELESS_PREFIX: &str = "outbox";

/// The content of a table-less event: the outbox table's columns as JSON fields.
pub fn tableless_message(event_id: &str, order_id: i64, payload: &Value) -> Value {
    json!({
        "id": event_id,
        "aggregate_type": "Order",
        "aggregate_id": order_id.to_string(),
        "event_type": "OrderCreated",
        "payload": payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tableless_message_carries_the_outbox_columns() {
        let order = NewOrder {
            customer_id: "alice".into(),
            total: "42.50".into(),
        };
        let payload = order_created_payload(7, &order).unwrap();
        let m = tableless_message("e1", 7, &payload);
        assert_eq!(m["aggregate_type"], "Order");
        assert_eq!(m["aggregate_id"], "7");
        assert_eq!(m["id"], "e1");
        assert_eq!(m["payload"]["orderId"], 7);
    }
}
