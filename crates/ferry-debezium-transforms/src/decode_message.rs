//! `io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent`: turns
//! a logical decoding message event (`op: m`, binary `message.content`) into a create
//! event whose `after` is the JSON content as a struct, so that EventRouter can route a
//! table-less outbox written with `pg_logical_emit_message`.

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, Importance, Record, Schema, SchemaType,
    Struct, Transformation, Value,
};

use crate::envelope::{AFTER, ENVELOPE_SUFFIX, OP};
use crate::outbox::json_schema::{EmptyArrayBehavior, FieldNameAdjustment, JsonSchemaData, NullBehavior};
use crate::util::{self, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.connector.postgresql.transforms.DecodeLogicalDecodingMessageContent";
/// Value schema name of the PostgreSQL connector's message events.
pub const MESSAGE_VALUE_SCHEMA: &str = "io.debezium.connector.postgresql.MessageValue";

const FIELDS_NULL_INCLUDE: &str = "fields.null.include";
const MESSAGE: &str = "message";
const CONTENT: &str = "content";
/// Lookups scan linearly (a pointer check first, then a deep comparison), so this stays small.
const CACHE_SIZE: usize = 64;

/// The message-content decoder.
#[derive(Debug)]
pub struct DecodeLogicalDecodingMessageContent {
    json: Option<JsonSchemaData>,
    /// (message value schema, content schema) → output envelope schema.
    schemas: SchemaCache<(Schema, Schema), Schema>,
}

impl Default for DecodeLogicalDecodingMessageContent {
    fn default() -> Self {
        DecodeLogicalDecodingMessageContent {
            json: None,
            schemas: SchemaCache::new(CACHE_SIZE),
        }
    }
}

impl DecodeLogicalDecodingMessageContent {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        util::debezium_field(
            FIELDS_NULL_INCLUDE,
            ConfigType::Boolean,
            "Defines whether to include fields with null values to the decoded structure",
        )
        .default_value("false")
        .width(Width::Medium)
        .importance(Importance::Medium)
        .doc("When true, JSON fields holding null are kept as optional bytes fields; by default they are left out."),
    )
}

fn failure(msg: impl Into<String>) -> ConnectError {
    ConnectError::data(msg)
}

/// The message content as a struct with an inferred schema.
fn decode(json: &JsonSchemaData, content: &[u8]) -> Result<(Schema, Value), ConnectError> {
    let text = String::from_utf8_lossy(content);
    if !(text.starts_with('{') || text.starts_with('[')) {
        return Err(failure(format!(
            "Unable to parse logical decoding message content JSON string '{text}'"
        )));
    }
    let node = JsonSchemaData::parse(&text).map_err(|e| {
        failure(format!(
            "Unable to parse logical decoding message content JSON string '{text}': {e}"
        ))
    })?;
    let schema = json
        .to_schema(None, &node)
        .map_err(|e| failure(e.to_string()))?
        .filter(|s| s.schema_type() == SchemaType::Struct)
        .ok_or_else(|| {
            failure(format!(
                "The logical decoding message content is not a JSON object: '{text}'"
            ))
        })?;
    let value = json.to_data(&node, &schema)?;
    Ok((schema, value))
}

/// `MessageValue` without `message`, plus `after`, named `…MessageValue.Envelope`.
fn envelope_schema(message_schema: &Schema, content_schema: &Schema) -> Schema {
    let name = format!("{}{ENVELOPE_SUFFIX}", message_schema.name().unwrap_or_default());
    let mut b = Schema::struct_builder().name(name);
    for f in message_schema.fields() {
        if f.name() != MESSAGE && f.name() != AFTER {
            b = b.field(f.name(), f.schema().clone());
        }
    }
    b.field(AFTER, content_schema.clone()).build()
}

impl Transformation for DecodeLogicalDecodingMessageContent {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let parsed = config_def().parse(config)?;
        let nulls = if parsed.boolean(FIELDS_NULL_INCLUDE) {
            NullBehavior::OptionalBytes
        } else {
            NullBehavior::Ignore
        };
        self.json = Some(JsonSchemaData::new(
            nulls,
            EmptyArrayBehavior::Ignore,
            FieldNameAdjustment::None,
        ));
        self.schemas = SchemaCache::new(CACHE_SIZE);
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        let json = self.json.as_ref().ok_or_else(|| {
            ConnectError::config("DecodeLogicalDecodingMessageContent used before configure")
        })?;
        let is_message = record
            .value_schema
            .as_ref()
            .and_then(Schema::name)
            .is_some_and(|n| n == MESSAGE_VALUE_SCHEMA);
        if !is_message {
            tracing::debug!(key = ?record.key, "Ignore not a logical decoding message");
            return Ok(Some(record));
        }
        let value = util::require_struct(&record.value, "Retrieve a record value")?;
        let message = util::require_struct(
            util::get(value, MESSAGE)?,
            "Retrieve content of a logical decoding message",
        )?;
        let content_field = message
            .schema()
            .field(CONTENT)
            .ok_or_else(|| failure(format!("{CONTENT} is not a valid field name")))?;
        if content_field.schema().schema_type() != SchemaType::Bytes {
            return Err(failure("The content of a logical decoding message is non-binary"));
        }
        let content = match util::get(message, CONTENT)? {
            Value::Bytes(b) => b.clone(),
            _ => return Err(failure("The content of a logical decoding message is null")),
        };
        let (content_schema, content_value) = decode(json, &content)?;

        let message_schema = value.schema().clone();
        let key = (message_schema.clone(), content_schema);
        let schema = self
            .schemas
            .get_or_try_insert(&key, || Ok::<_, ConnectError>(envelope_schema(&key.0, &key.1)))?;

        let mut content_value = Some(content_value);
        let mut values = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            values.push(match f.name() {
                AFTER => content_value.take().unwrap_or_default(),
                OP => Value::from("c"),
                name => util::get(value, name)?.clone(),
            });
        }
        let out = Struct::from_values(schema.clone(), values)?;
        Ok(Some(Record {
            key_schema: None,
            key: Value::Null,
            value_schema: Some(schema),
            value: Value::Struct(out),
            ..record
        }))
    }
}
