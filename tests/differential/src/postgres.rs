//! What the PostgreSQL scenarios share: the connector request both runtimes get, and the
//! status every scenario waits for.

use crate::pair::Pair;
use ferry_test_support::postgres::PgCluster;
use ferry_test_support::worker::Answer;
use serde_json::{json, Value};

/// A status answer with the connector and every one of its (at least one) tasks RUNNING.
pub fn tasks_running(a: &Answer) -> bool {
    a.status == 200
        && a.body["connector"]["state"] == "RUNNING"
        && a.body["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING"))
}

/// A status answer whose tasks (at least one) are all FAILED.
pub fn tasks_failed(a: &Answer) -> bool {
    a.status == 200
        && a.body["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "FAILED"))
}

/// `POST /connectors` body of a PostgresConnector named `name` on `db`, with the slot
/// `SLOT_NAME` and publication `SLOT_NAME_pub` of one side (`slot` is `ferry` or
/// `connect`), then `extra`'s settings.
pub fn connector(name: &str, slot: &str, pg: &PgCluster, db: &str, extra: &Value) -> String {
    let mut config = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1",
        "database.port": pg.port().to_string(),
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db,
        "plugin.name": "pgoutput",
        "slot.name": format!("{slot}_{name}"),
        "publication.name": format!("{slot}_{name}_pub"),
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
    });
    for (k, v) in extra.as_object().expect("extra settings are a JSON object") {
        config[k] = v.clone();
    }
    json!({"name": name, "config": config}).to_string()
}

/// `POST /connectors` of the PostgresConnector `name` with `extra`'s settings to both
/// runtimes (each on its own slot and publication), compared as `POST /connectors (NAME)`.
pub async fn create_on_both(pair: &mut Pair, name: &str, pg: &PgCluster, db: &str, extra: &Value) {
    pair.exchange_each(
        &format!("POST /connectors ({name})"),
        "POST",
        "/connectors",
        &connector(name, "ferry", pg, db, extra),
        &connector(name, "connect", pg, db, extra),
    )
    .await;
}
