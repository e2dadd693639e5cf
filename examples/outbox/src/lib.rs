//! The transactional outbox pattern on Ferry, as in the seed article: an order
//! service writes an order and its `OrderCreated` event in one PostgreSQL
//! transaction; Ferry (Debezium's PostgresConnector + EventRouter) publishes the
//! outbox rows to `Order_events`; an idempotent notification consumer handles each
//! event exactly once in its database and parks poison pills in `orders_dlq`.
//!
//! [`lab`] starts the whole pipeline on one machine (private PostgreSQL, Tansu,
//! `ferry`) for the demo binary and the end-to-end test.

pub mod consumer;
pub mod dlq;
pub mod event;
pub mod kafka;
pub mod lab;
pub mod orders;

/// The schema of both services (`orders`, `outbox`, `processed_events`, `notifications`).
pub const SCHEMA_SQL: &str = include_str!("../schema.sql");

/// The seed's connector JSON, byte for byte.
pub const CONNECTOR_JSON: &str = include_str!("../connector.json");

/// Name of the connector in [`CONNECTOR_JSON`].
pub const CONNECTOR_NAME: &str = "outbox-connector";

/// The seed's connector with Ferry's outbox cleanup switched on (`outbox.cleanup.*`) and
/// heartbeats, so rows go once their events are in Kafka (docs/outbox-cleanup.md).
pub const CLEANUP_CONNECTOR_JSON: &str = include_str!("../connector-cleanup.json");

/// The table-less variant's connector: logical decoding messages with prefix `outbox`,
/// DecodeLogicalDecodingMessageContent, then the seed's EventRouter settings.
pub const TABLELESS_CONNECTOR_JSON: &str = include_str!("../connector-tableless.json");

/// Name of the connector in [`TABLELESS_CONNECTOR_JSON`].
pub const TABLELESS_CONNECTOR_NAME: &str = "outbox-tableless-connector";

/// Database named in [`CONNECTOR_JSON`].
pub const ORDER_DB: &str = "order_db";

/// Topic the EventRouter routes `aggregate_type = 'Order'` rows to.
pub const ORDER_EVENTS_TOPIC: &str = "Order_events";

/// Dead letter topic of the notification consumer.
pub const DLQ_TOPIC: &str = "orders_dlq";

/// Consumer group of the notification service.
pub const CONSUMER_GROUP: &str = "notification-service";

/// Applies [`SCHEMA_SQL`] (idempotent: every statement is `IF NOT EXISTS`).
pub async fn apply_schema(db: &tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
    db.batch_execute(SCHEMA_SQL).await
}

/// Connects to PostgreSQL with a libpq-style connection string; the connection
/// task runs on the current tokio runtime.
pub async fn connect(conn_str: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, conn) = tokio_postgres::connect(conn_str, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

/// Installs a `tracing` subscriber writing to stderr (`RUST_LOG`, default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rdkafka=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    /// connector.json is the seed's JSON (copied byte for byte): the settings the lab relies on.
    #[test]
    fn connector_json_has_the_seeds_settings() {
        let v: serde_json::Value = serde_json::from_str(super::CONNECTOR_JSON).unwrap();
        assert_eq!(v["name"], super::CONNECTOR_NAME);
        let config = &v["config"];
        assert_eq!(config["database.dbname"], super::ORDER_DB);
        assert_eq!(
            config["connector.class"],
            "io.debezium.connector.postgresql.PostgresConnector"
        );
        assert_eq!(config["plugin.name"], "pgoutput");
        assert_eq!(config["table.include.list"], "public.outbox");
        assert_eq!(
            config["transforms.outboxEventRouter.type"],
            "io.debezium.transforms.outbox.EventRouter"
        );
        assert_eq!(
            config["transforms.outboxEventRouter.route.topic.replacement"],
            "${routedByValue}_events"
        );
    }

    #[test]
    fn schema_keeps_the_seeds_outbox_and_processed_events_tables() {
        let flat = super::SCHEMA_SQL.split_whitespace().collect::<Vec<_>>().join(" ");
        for table in [
            "outbox ( id UUID PRIMARY KEY, aggregate_type VARCHAR(255) NOT NULL, aggregate_id VARCHAR(255) NOT NULL, \
             event_type VARCHAR(255) NOT NULL, payload JSONB NOT NULL, created_at TIMESTAMPTZ DEFAULT NOW() );",
            "processed_events ( event_id UUID PRIMARY KEY, processed_at TIMESTAMPTZ DEFAULT NOW() );",
        ] {
            assert!(flat.contains(table), "schema.sql lacks {table}");
        }
    }
}
