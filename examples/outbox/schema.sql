-- Schema of the outbox example (seed: "Transactional Outbox Pattern for Resilient
-- Microservice Integration"). The order service owns `orders` and `outbox`; the
-- notification service owns `processed_events` and `notifications`. The demo keeps
-- both in one database (order_db); in production each service has its own.

-- Order service: the business table ...
CREATE TABLE IF NOT EXISTS orders (
    id BIGSERIAL PRIMARY KEY,
    customer_id VARCHAR(255) NOT NULL,
    total NUMERIC(10, 2) NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- ... and its outbox, exactly as in the seed. Ferry's PostgresConnector reads it
-- from the WAL; the EventRouter routes each row to `${aggregate_type}_events`.
CREATE TABLE IF NOT EXISTS outbox (
    id UUID PRIMARY KEY,
    aggregate_type VARCHAR(255) NOT NULL,
    aggregate_id VARCHAR(255) NOT NULL,
    event_type VARCHAR(255) NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW()
);

-- Notification service: idempotency tracking, exactly as in the seed. An event id
-- is inserted in the same transaction as the business effect below.
CREATE TABLE IF NOT EXISTS processed_events (
    event_id UUID PRIMARY KEY,
    processed_at TIMESTAMPTZ DEFAULT NOW()
);

-- The business effect of the notification service: one row per confirmation sent.
CREATE TABLE IF NOT EXISTS notifications (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL,
    order_id BIGINT NOT NULL,
    customer_id VARCHAR(255) NOT NULL,
    message TEXT NOT NULL,
    sent_at TIMESTAMPTZ DEFAULT NOW()
);
