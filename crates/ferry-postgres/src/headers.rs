//! The headers Debezium puts on change events: the four context headers of its
//! `DebeziumHeaderProducer` (`extended.headers.enabled`, on by default) and the
//! `__debezium.newkey` / `__debezium.oldkey` headers of a primary-key change.
//!
//! Debezium's `EventDispatcher` appends the context headers after the emitter's own
//! headers (so a key change's delete reads `newkey, connectorLogicalName, taskId,
//! connectorName, runId`), on every data change event: snapshot reads, streamed
//! creates, updates and deletes, their tombstones (which copy the delete's headers)
//! and truncates. Heartbeats, logical decoding messages and transaction records get
//! none.

use std::sync::Arc;

use ferry_core::{Header, Headers, Schema, Value};
use uuid::Uuid;

/// `DebeziumHeaders.DEBEZIUM_CONNECTOR_LOGICAL_NAME_HEADER`: the topic prefix.
pub const CONNECTOR_LOGICAL_NAME: &str = "__debezium.context.connectorLogicalName";
/// `DebeziumHeaders.DEBEZIUM_TASK_ID_HEADER`: the task number, as a string.
pub const TASK_ID: &str = "__debezium.context.taskId";
/// `DebeziumHeaders.DEBEZIUM_CONNECTOR_NAME_HEADER`: the connector plugin's name.
pub const CONNECTOR_NAME: &str = "__debezium.context.connectorName";
/// `DebeziumHeaders.DEBEZIUM_CONNECTOR_RUN_ID`: a UUID (version 7) per task start.
pub const RUN_ID: &str = "__debezium.context.runId";
/// `RelationalChangeRecordEmitter.PK_UPDATE_NEWKEY_FIELD`, on a key change's delete.
pub const PK_UPDATE_NEWKEY: &str = "__debezium.newkey";
/// `RelationalChangeRecordEmitter.PK_UPDATE_OLDKEY_FIELD`, on a key change's create.
pub const PK_UPDATE_OLDKEY: &str = "__debezium.oldkey";

/// The PostgreSQL connector's plugin name (`Module.name()`), the `connectorName` header.
pub const PLUGIN_NAME: &str = "postgresql";

/// The task number Debezium's PostgreSQL task context carries (it runs one task).
pub const TASK_NUMBER: &str = "0";

/// The four context headers of one task run, built once and appended to each change
/// event by cloning (no formatting per record).
#[derive(Clone, Debug)]
pub struct ContextHeaders {
    headers: Arc<[Header]>,
    run_id: Uuid,
}

impl ContextHeaders {
    /// The headers of a run of the task of connector `logical_name` (`topic.prefix`),
    /// identified by `run_id`.
    pub fn new(logical_name: &str, run_id: Uuid) -> ContextHeaders {
        let string = |key: &str, value: &str| Header {
            key: key.to_string(),
            schema: Some(Schema::string()),
            value: Value::String(value.to_string()),
        };
        let headers = [
            string(CONNECTOR_LOGICAL_NAME, logical_name),
            string(TASK_ID, TASK_NUMBER),
            string(CONNECTOR_NAME, PLUGIN_NAME),
            string(RUN_ID, &run_id.to_string()),
        ];
        ContextHeaders {
            headers: Arc::from(headers),
            run_id,
        }
    }

    /// A new run id, as Debezium's `UUIDUtils.generateNewUUID` makes them (version 7).
    pub fn new_run_id() -> Uuid {
        Uuid::now_v7()
    }

    /// The run id these headers carry.
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// Appends the context headers to `headers`, after those already there.
    pub fn append_to(&self, headers: &mut Headers) {
        for h in self.headers.iter() {
            headers.add(h.key.clone(), h.schema.clone(), h.value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_headers_follow_the_emitters_headers_in_debeziums_order() {
        let run_id = ContextHeaders::new_run_id();
        let ctx = ContextHeaders::new("dbz", run_id);
        let mut headers = Headers::new();
        headers.add_string(PK_UPDATE_NEWKEY, "k");
        ctx.append_to(&mut headers);
        let got: Vec<(&str, &Value)> = headers.iter().map(|h| (h.key.as_str(), &h.value)).collect();
        let run = Value::String(run_id.to_string());
        assert_eq!(
            got,
            vec![
                (PK_UPDATE_NEWKEY, &Value::String("k".into())),
                (CONNECTOR_LOGICAL_NAME, &Value::String("dbz".into())),
                (TASK_ID, &Value::String("0".into())),
                (CONNECTOR_NAME, &Value::String("postgresql".into())),
                (RUN_ID, &run),
            ]
        );
        assert!(headers.iter().skip(1).all(|h| h.schema == Some(Schema::string())));
    }

    #[test]
    fn run_ids_are_version_7_and_new_each_time() {
        let a = ContextHeaders::new_run_id();
        let b = ContextHeaders::new_run_id();
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
        // Java's UUID.toString: lower-case, hyphenated.
        let text = a.to_string();
        assert_eq!(text.len(), 36);
        assert_eq!(text, text.to_lowercase());
        assert_eq!(ContextHeaders::new("p", a).run_id(), a);
    }
}
