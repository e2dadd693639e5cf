//! Debezium's `io.debezium.converters.CloudEventsConverter`: a change event written as a
//! CloudEvent in structured JSON mode, with the attributes Debezium 3.6.3 derives for a
//! PostgreSQL event (`id` from the server name, LSN, transaction id and sequence; `source`
//! `/debezium/postgresql/NAME`; `time` from `source.ts_ms`), the `iodebezium*` extension
//! attributes (operation, source block, transaction block) and `data` holding `before` and
//! `after`, with or without their schema (`json.schemas.enable`, default true).
//!
//! Ferry writes JSON only: `serializer.type` and `data.serializer.type` other than `json`
//! need a schema registry (Avro) and are refused when the converter is configured, as is
//! reading metadata from record headers (converters see no headers in Ferry).

use std::sync::{Arc, Mutex};

use chrono::DateTime;
use ferry_core::java;
use ferry_core::java::object::{write_value_string, BytesText};
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, Converter, DataError, Importance, Schema,
    SchemaAndValue, SchemaType, Struct, Value,
};

use crate::common::{self, ConverterType};
use crate::json::{read_object_member, write_schema, write_str, write_value, JsonConverter, JsonOptions};

/// Java class name.
pub const CLASS: &str = "io.debezium.converters.CloudEventsConverter";

/// Serialization of the whole event (`json`; Debezium also offers `avro`).
pub const SERIALIZER_TYPE_CONFIG: &str = "serializer.type";
/// Serialization of the `data` attribute.
pub const DATA_SERIALIZER_TYPE_CONFIG: &str = "data.serializer.type";
/// Whether to add the `traceparent` attribute.
pub const OPENTELEMETRY_CONFIG: &str = "opentelemetry.tracing.attributes.enable";
/// Whether to add the `iodebezium*` extension attributes.
pub const EXTENSION_ATTRIBUTES_CONFIG: &str = "extension.attributes.enable";
/// How the CloudEvents schema name is adjusted (`avro`, `avro_unicode`, `none`).
pub const SCHEMA_NAME_ADJUSTMENT_MODE_CONFIG: &str = "schema.name.adjustment.mode";
/// The CloudEvents schema name in a schema registry.
pub const SCHEMA_CLOUDEVENTS_NAME_CONFIG: &str = "schema.cloudevents.name";
/// Whether the data schema name may come from a header.
pub const SCHEMA_DATA_NAME_FROM_HEADER_CONFIG: &str = "schema.data.name.source.header.enable";
/// Where `id`, `type`, `traceparent` and the data schema name come from.
pub const METADATA_SOURCE_CONFIG: &str = "metadata.source";

const METADATA_SOURCE_DEFAULT: &str =
    "value,id:generate,type:generate,traceparent:header,dataSchemaName:generate";
const SPEC_VERSION: &str = "1.0";
const EXTENSION_PREFIX: &str = "iodebezium";
/// The one connector type whose CloudEvents maker Ferry has (Debezium's `Module.name()`).
const POSTGRES: &str = "postgresql";
/// The PostgreSQL maker's data fields.
const DATA_FIELDS: [&str; 2] = ["before", "after"];
/// Source fields any maker may read, and the PostgreSQL maker's own.
const SOURCE_FIELDS: [&str; 10] = [
    "version",
    "connector",
    "name",
    "ts_ms",
    "snapshot",
    "db",
    "txId",
    "xmin",
    "lsn",
    "sequence",
];
/// The transaction block's fields (Debezium's `TransactionMonitor.TRANSACTION_BLOCK_SCHEMA`),
/// all optional as extension attributes.
const TX_FIELDS: [(&str, SchemaType); 3] = [
    ("id", SchemaType::String),
    ("total_order", SchemaType::Int64),
    ("data_collection_order", SchemaType::Int64),
];

/// Where one metadata item comes from (`metadata.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MetadataSource {
    Value,
    Header,
    Generate,
}

impl MetadataSource {
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        [
            ("value", MetadataSource::Value),
            ("header", MetadataSource::Header),
            ("generate", MetadataSource::Generate),
        ]
        .into_iter()
        .find(|(name, _)| t.eq_ignore_ascii_case(name))
        .map(|(_, s)| s)
    }

    fn java_name(self) -> &'static str {
        match self {
            MetadataSource::Value => "VALUE",
            MetadataSource::Header => "HEADER",
            MetadataSource::Generate => "GENERATE",
        }
    }
}

/// The resolved sources of the customizable attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MetadataSources {
    global: MetadataSource,
    id: MetadataSource,
    ty: MetadataSource,
    trace_parent: MetadataSource,
    data_schema_name: MetadataSource,
}

impl MetadataSources {
    /// Debezium's `CloudEventsConverterConfig.metadataSource()`, with its checks and messages.
    fn resolve(entries: &[String], tracing: bool, data_name_from_header: bool) -> Result<Self, ConfigError> {
        let key = Some(METADATA_SOURCE_CONFIG);
        let first = entries
            .first()
            .ok_or_else(|| ConfigError::other(key, "metadata.source must name a global source"))?;
        let global = match MetadataSource::parse(first) {
            Some(MetadataSource::Generate) => {
                let name = MetadataSource::Generate.java_name();
                return Err(ConfigError::other(
                    key,
                    format!("Global metadata source can't be {name}"),
                ));
            }
            Some(s) => s,
            None => {
                return Err(ConfigError::other(
                    key,
                    format!("Global metadata source `{}` is not valid", first.trim()),
                ))
            }
        };
        let (mut id, mut ty, mut trace_parent, mut data_schema_name) = (None, None, None, None);
        for entry in &entries[1..] {
            let mut parts = entry.split(':');
            let field = parts.next().unwrap_or_default();
            let source_text = parts.next().ok_or_else(|| {
                ConfigError::other(key, format!("Metadata source `{entry}` must be FIELD:SOURCE"))
            })?;
            let source = MetadataSource::parse(source_text).ok_or_else(|| {
                ConfigError::other(key, format!("Field source `{source_text}` is not valid"))
            })?;
            if source == MetadataSource::Value {
                return Err(ConfigError::other(key, "Field metadata source can't be VALUE"));
            }
            let slot = match field {
                "id" => &mut id,
                "type" => &mut ty,
                "traceparent" => &mut trace_parent,
                "dataSchemaName" => &mut data_schema_name,
                other => {
                    return Err(ConfigError::other(
                        key,
                        format!("Field `{other}` is not allowed to set custom source"),
                    ))
                }
            };
            *slot = Some(source);
        }
        let mut trace_parent = trace_parent.unwrap_or(global);
        // A header traceparent counts only with tracing attributes enabled (backward compatibility).
        if trace_parent == MetadataSource::Header && !tracing {
            trace_parent = MetadataSource::Generate;
        }
        let mut data_schema_name = data_schema_name.unwrap_or(global);
        if data_schema_name == MetadataSource::Header && !data_name_from_header {
            data_schema_name = MetadataSource::Generate;
        }
        Ok(MetadataSources {
            global,
            id: id.unwrap_or(global),
            ty: ty.unwrap_or(global),
            trace_parent,
            data_schema_name,
        })
    }

    fn any_from_header(&self) -> bool {
        [
            self.global,
            self.id,
            self.ty,
            self.trace_parent,
            self.data_schema_name,
        ]
        .contains(&MetadataSource::Header)
    }
}

/// The `data` attribute's schema for one envelope schema, kept for the next event.
struct DataSchema {
    envelope: Schema,
    schema: Schema,
    /// The schema's JSON (for `json.schemas.enable=true`).
    json: Arc<[u8]>,
}

/// Debezium's CloudEvents converter (structured mode, JSON).
pub struct CloudEventsConverter {
    /// Options of the event's JSON: `json.*` with `schemas.enable=false`.
    event_json: JsonOptions,
    /// Options of the `data` attribute's JSON: `json.*` as given.
    data_json: JsonOptions,
    extension_attributes: bool,
    tracing_attributes: bool,
    sources: MetadataSources,
    data_schema: Mutex<Option<DataSchema>>,
}

impl Default for CloudEventsConverter {
    fn default() -> Self {
        CloudEventsConverter::new()
    }
}

impl CloudEventsConverter {
    /// A converter with Debezium's defaults (as configured with no options).
    pub fn new() -> Self {
        CloudEventsConverter {
            event_json: JsonOptions::schemaless(),
            data_json: JsonOptions::default(),
            extension_attributes: true,
            tracing_attributes: false,
            sources: MetadataSources {
                global: MetadataSource::Value,
                id: MetadataSource::Generate,
                ty: MetadataSource::Generate,
                trace_parent: MetadataSource::Generate,
                data_schema_name: MetadataSource::Generate,
            },
            data_schema: Mutex::new(None),
        }
    }

    /// The option definitions (`CloudEventsConverterConfig.configDef()`).
    pub fn definition() -> ConfigDef {
        let key = |name: &str, ty: ConfigType, importance: Importance, doc: &str| {
            ConfigKey::new(name, ty).importance(importance).doc(doc)
        };
        common::base_config_def()
            .define(
                key(
                    SERIALIZER_TYPE_CONFIG,
                    ConfigType::String,
                    Importance::High,
                    "How the CloudEvents are serialized (json or avro).",
                )
                .default_value("json"),
            )
            .define(
                key(
                    DATA_SERIALIZER_TYPE_CONFIG,
                    ConfigType::String,
                    Importance::High,
                    "How the data attribute of the CloudEvents is serialized (json or avro).",
                )
                .default_value("json"),
            )
            .define(
                key(
                    OPENTELEMETRY_CONFIG,
                    ConfigType::Boolean,
                    Importance::High,
                    "Whether the CloudEvents carry the OpenTelemetry traceparent attribute.",
                )
                .default_value("false"),
            )
            .define(
                key(
                    EXTENSION_ATTRIBUTES_CONFIG,
                    ConfigType::Boolean,
                    Importance::High,
                    "Whether the CloudEvents carry the iodebezium* extension attributes.",
                )
                .default_value("true"),
            )
            .define(
                key(
                    SCHEMA_NAME_ADJUSTMENT_MODE_CONFIG,
                    ConfigType::String,
                    Importance::Low,
                    "How the CloudEvents schema name is adjusted: 'avro' replaces characters Avro \
                     names cannot hold with underscores (the default), 'avro_unicode' escapes them, \
                     'none' keeps the name.",
                )
                .default_value("avro"),
            )
            .define(
                key(
                    SCHEMA_CLOUDEVENTS_NAME_CONFIG,
                    ConfigType::String,
                    Importance::Low,
                    "The name under which the CloudEvents schema is registered in a schema registry.",
                )
                .default_null(),
            )
            .define(
                key(
                    SCHEMA_DATA_NAME_FROM_HEADER_CONFIG,
                    ConfigType::Boolean,
                    Importance::Low,
                    "Whether the schema name of the data attribute may be read from a record header.",
                )
                .default_value("false"),
            )
            .define(
                key(
                    METADATA_SOURCE_CONFIG,
                    ConfigType::List,
                    Importance::High,
                    "Where the metadata comes from: a global source (value or header), then \
                     FIELD:SOURCE overrides for id, type, traceparent and dataSchemaName.",
                )
                .default_value(METADATA_SOURCE_DEFAULT),
            )
    }

    fn configure_options(&mut self, config: &ConfigMap, is_key: bool) -> Result<(), ConfigError> {
        // Debezium parses its own options as a value converter, whatever the side.
        let parsed = common::parse_with_type(&Self::definition(), config, ConverterType::Value)?;
        let is_json = |key| parsed.string(key).is_some_and(|t| t.eq_ignore_ascii_case("json"));
        let (event_is_json, data_is_json) = (
            is_json(SERIALIZER_TYPE_CONFIG),
            is_json(DATA_SERIALIZER_TYPE_CONFIG),
        );
        if !event_is_json && data_is_json {
            // Debezium's first check, worded as Debezium words it.
            return Err(ConfigError::other(
                Some(SERIALIZER_TYPE_CONFIG),
                "Cannot use 'application/json' data content type within Avro events",
            )
            .thrown_as("java.lang.IllegalStateException"));
        }
        for (key, json) in [
            (SERIALIZER_TYPE_CONFIG, event_is_json),
            (DATA_SERIALIZER_TYPE_CONFIG, data_is_json),
        ] {
            if !json {
                return Err(ConfigError::invalid(
                    key,
                    parsed.string(key).unwrap_or("null"),
                    "Ferry's CloudEventsConverter writes json only (avro needs a schema registry)",
                ));
            }
        }
        let mode = parsed
            .string(SCHEMA_NAME_ADJUSTMENT_MODE_CONFIG)
            .unwrap_or_default();
        if !["avro", "avro_unicode", "none"]
            .iter()
            .any(|m| mode.trim().eq_ignore_ascii_case(m))
        {
            return Err(ConfigError::invalid(
                SCHEMA_NAME_ADJUSTMENT_MODE_CONFIG,
                mode,
                "must be one of avro, avro_unicode, none",
            ));
        }
        let tracing = parsed.boolean(OPENTELEMETRY_CONFIG);
        let sources = MetadataSources::resolve(
            parsed.list(METADATA_SOURCE_CONFIG),
            tracing,
            parsed.boolean(SCHEMA_DATA_NAME_FROM_HEADER_CONFIG),
        )?;
        if sources.any_from_header() {
            return Err(ConfigError::invalid(
                METADATA_SOURCE_CONFIG,
                parsed.list(METADATA_SOURCE_CONFIG).join(","),
                "Ferry's converters do not see record headers, so no metadata can come from a header \
                 (with opentelemetry.tracing.attributes.enable=true, set traceparent:generate)",
            ));
        }

        // `json.*` options pass through to both JSON writers.
        let json: ConfigMap = config
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("json.").map(|k| (k.to_owned(), v.clone())))
            .collect();
        let mut event_json = json.clone();
        event_json.insert(crate::json::SCHEMAS_ENABLE_CONFIG.to_owned(), "false".to_owned());
        let mut event_converter = JsonConverter::new();
        Converter::configure(&mut event_converter, &event_json, is_key)?;
        // Debezium configures its data converter as a key converter.
        let mut data_converter = JsonConverter::new();
        Converter::configure(&mut data_converter, &json, true)?;

        self.event_json = event_converter.options();
        self.data_json = data_converter.options();
        self.extension_attributes = parsed.boolean(EXTENSION_ATTRIBUTES_CONFIG);
        self.tracing_attributes = tracing;
        self.sources = sources;
        self.data_schema = Mutex::new(None);
        Ok(())
    }

    /// The `data` schema of events with `envelope`: a struct named
    /// `io.debezium.connector.postgresql.Data` holding `before` and `after`.
    fn with_data_schema<R>(
        &self,
        envelope: &Schema,
        f: impl FnOnce(&DataSchema) -> R,
    ) -> Result<R, DataError> {
        let mut cached = self.data_schema.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(d) = cached.as_ref().filter(|d| &d.envelope == envelope) {
            return Ok(f(d));
        }
        let mut builder = Schema::struct_builder().name(format!("io.debezium.connector.{POSTGRES}.Data"));
        for name in DATA_FIELDS {
            let field = envelope
                .field(name)
                .ok_or_else(|| DataError::new(format!("{name} is not a valid field name")))?;
            builder = builder.field(name, field.schema().clone());
        }
        let schema = builder.build();
        let mut json = Vec::new();
        write_schema(&self.data_json, &schema, &mut json)?;
        let data = DataSchema {
            envelope: envelope.clone(),
            schema,
            json: json.into(),
        };
        let result = f(&data);
        *cached = Some(data);
        Ok(result)
    }

    fn write_event(&self, schema: &Schema, record: &Struct, out: &mut Vec<u8>) -> Result<(), DataError> {
        let source = match field(record, "source")? {
            Value::Struct(s) => s,
            Value::Null => return Err(DataError::new("The event has no source block")),
            other => return Err(type_error("source", "STRUCT", other)),
        };
        let connector = string_field(source, "connector")?;
        if connector != Some(POSTGRES) {
            return Err(DataError::new(format!(
                "No usable CloudEvents converters for connector type \"{}\"",
                connector.unwrap_or("null")
            )));
        }

        out.extend_from_slice(b"{\"id\":");
        if self.sources.id == MetadataSource::Generate {
            let mut id = String::with_capacity(96);
            for (label, name) in [
                ("name:", "name"),
                (";lsn:", "lsn"),
                (";txId:", "txId"),
                (";sequence:", "sequence"),
            ] {
                id.push_str(label);
                push_java_string(source_field(source, name)?, &mut id);
            }
            write_str(&id, out);
        } else {
            return Err(null_required("id"));
        }
        out.extend_from_slice(b",\"source\":");
        let name = string_field(source, "name")?.unwrap_or("null");
        write_str(&format!("/debezium/{POSTGRES}/{name}"), out);
        out.extend_from_slice(b",\"specversion\":\"");
        out.extend_from_slice(SPEC_VERSION.as_bytes());
        out.extend_from_slice(b"\",\"type\":");
        if self.sources.ty == MetadataSource::Generate {
            write_str(&format!("io.debezium.connector.{POSTGRES}.DataChangeEvent"), out);
        } else {
            return Err(null_required("type"));
        }
        out.extend_from_slice(b",\"time\":");
        let ts_ms = match source_field(source, "ts_ms")? {
            Value::Int64(ms) => *ms,
            Value::Null => return Err(DataError::new("The source block's ts_ms is null")),
            other => return Err(type_error("ts_ms", "INT64", other)),
        };
        let time = DateTime::from_timestamp_millis(ts_ms)
            .ok_or_else(|| DataError::new(format!("ts_ms {ts_ms} is out of range")))?;
        write_str(&time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), out);
        out.extend_from_slice(b",\"datacontenttype\":\"application/json\"");
        if self.tracing_attributes {
            return Err(DataError::new(
                "Value for `traceparent` CloudEvents field currently can't be obtained from a record value \
                 and can only be obtained from a record header",
            ));
        }
        if self.extension_attributes {
            write_extensions(record, source, out)?;
        }
        out.extend_from_slice(b",\"data\":");
        self.write_data(schema, record, out)?;
        out.push(b'}');
        Ok(())
    }

    fn write_data(&self, envelope: &Schema, record: &Struct, out: &mut Vec<u8>) -> Result<(), DataError> {
        let data_schema = self.with_data_schema(envelope, |d| {
            (
                d.schema.clone(),
                self.data_json.schemas_enable.then(|| d.json.clone()),
            )
        })?;
        let (schema, schema_json) = data_schema;
        let opts = if schema_json.is_some() {
            &self.data_json
        } else {
            &self.event_json
        };
        if let Some(json) = &schema_json {
            out.extend_from_slice(b"{\"schema\":");
            out.extend_from_slice(json);
            out.extend_from_slice(b",\"payload\":");
        }
        out.push(b'{');
        for (i, f) in schema.fields().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(f.name(), out);
            out.push(b':');
            write_value(opts, Some(f.schema()), field(record, f.name())?, out)?;
        }
        out.push(b'}');
        if schema_json.is_some() {
            out.push(b'}');
        }
        Ok(())
    }

    fn read_event(&self, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        let not_a_cloud_event = |value: &Value| {
            let mut text = String::new();
            if value.is_null() {
                text.push_str("null");
            } else {
                write_value_string(None, value, BytesText::Utf8, &mut text);
            }
            DataError::new(format!(
                "A deserialized record's value is not a CloudEvent: value={text}"
            ))
        };
        let Some(bytes) = data else {
            return Err(not_a_cloud_event(&Value::Null));
        };
        let mut event = JsonConverter::with_options(self.event_json).deserialize(Some(bytes))?;
        let Value::Map(entries) = &mut event.value else {
            return Err(not_a_cloud_event(&event.value));
        };
        let has = |k: &str| entries.iter().any(|(key, _)| key.as_str() == Some(k));
        if entries.len() < 4 || !["id", "source", "specversion", "type"].into_iter().all(has) {
            return Err(not_a_cloud_event(&event.value));
        }
        let data = read_object_member(&self.data_json, bytes, "data", self.data_json.schemas_enable)?
            .ok_or_else(|| DataError::new("The CloudEvent has no data attribute"))?;
        if let Some(slot) = entries.iter_mut().find(|(k, _)| k.as_str() == Some("data")) {
            slot.1 = data.value;
        }
        Ok(event)
    }
}

/// A field of `s` by name (its default when null, as Connect's `Struct.get`), or Kafka's
/// `... is not a valid field name`.
fn field<'s>(s: &'s Struct, name: &str) -> Result<&'s Value, DataError> {
    s.get_or_default(name)
        .ok_or_else(|| DataError::new(format!("{name} is not a valid field name")))
}

fn string_field<'s>(s: &'s Struct, name: &str) -> Result<Option<&'s str>, DataError> {
    match field(s, name)? {
        Value::Null => Ok(None),
        Value::String(v) => Ok(Some(v)),
        other => Err(type_error(name, "STRING", other)),
    }
}

/// A source field the PostgreSQL maker may read.
fn source_field<'s>(source: &'s Struct, name: &str) -> Result<&'s Value, DataError> {
    if !SOURCE_FIELDS.contains(&name) {
        return Err(DataError::new(format!(
            "No such field \"{name}\" in the \"source\" field of events from {POSTGRES} connector"
        )));
    }
    field(source, name)
}

fn type_error(name: &str, want: &str, got: &Value) -> DataError {
    DataError::new(format!(
        "Invalid Java object for schema \"null\" with type {want}: class {} for field: \"{name}\"",
        got.kind_name()
    ))
}

fn null_required(name: &str) -> DataError {
    DataError::new(format!(
        "Invalid value: null used for required field: \"{name}\", schema type: STRING"
    ))
}

/// Java's string concatenation of a value (`null` for null).
fn push_java_string(value: &Value, out: &mut String) {
    if value.is_null() {
        out.push_str("null");
    } else {
        write_value_string(None, value, BytesText::Utf8, out);
    }
}

/// `iodebezium`, `prefix` and the ASCII letters and digits of `name` (CloudEvents
/// attribute naming).
fn extension_name(prefix: &str, name: &str) -> String {
    let mut out = String::with_capacity(EXTENSION_PREFIX.len() + prefix.len() + name.len());
    out.push_str(EXTENSION_PREFIX);
    out.push_str(prefix);
    out.extend(name.chars().filter(char::is_ascii_alphanumeric));
    out
}

/// `,"iodebeziumNAME":` without building the name.
fn write_extension_key(prefix: &str, name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(EXTENSION_PREFIX.as_bytes());
    out.extend_from_slice(prefix.as_bytes());
    out.extend(name.bytes().filter(u8::is_ascii_alphanumeric));
    out.extend_from_slice(b"\":");
}

/// One extension attribute: booleans and int32 as they are, int64 as a string; Connect's
/// checks (and messages) for what does not fit the attribute's schema.
fn write_extension_value(
    (prefix, name): (&str, &str),
    ty: SchemaType,
    optional: bool,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), DataError> {
    // The attribute's type: int8/int16/int32 become int32, int64 becomes a string.
    let attribute_type = match ty {
        SchemaType::Boolean => "BOOLEAN",
        SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 => "INT32",
        _ => "STRING",
    };
    match (ty, value) {
        (_, Value::Null) if optional => out.extend_from_slice(b"null"),
        (_, Value::Null) => {
            return Err(DataError::new(format!(
                "Invalid value: null used for required field: \"{}\", schema type: {attribute_type}",
                extension_name(prefix, name)
            )))
        }
        (SchemaType::Boolean, Value::Boolean(b)) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" })
        }
        (SchemaType::Int32, Value::Int32(v)) => out.extend_from_slice(v.to_string().as_bytes()),
        (SchemaType::String, Value::String(s)) => write_str(s, out),
        (SchemaType::Int64, Value::Int64(v)) => write_str(&v.to_string(), out),
        // Including int8/int16 values: Debezium puts the source's Byte or Short into an int32
        // attribute, which Connect refuses.
        (_, other) => {
            return Err(DataError::new(format!(
            "Invalid Java object for schema \"null\" with type {attribute_type}: class {} for field: \"{}\"",
            java::class_name(other),
            extension_name(prefix, name)
        )))
        }
    }
    Ok(())
}

fn write_extensions(record: &Struct, source: &Struct, out: &mut Vec<u8>) -> Result<(), DataError> {
    for f in source.schema().fields() {
        let ty = f.schema().schema_type();
        if !matches!(
            ty,
            SchemaType::Boolean
                | SchemaType::Int8
                | SchemaType::Int16
                | SchemaType::Int32
                | SchemaType::Int64
                | SchemaType::String
        ) {
            return Err(DataError::new(format!(
                "Source field of type {} cannot be converted into CloudEvents extension attribute.",
                ty.java_name()
            )));
        }
    }
    write_extension_key("", "op", out);
    let op = field(record, "op")?;
    write_extension_value(("", "op"), SchemaType::String, false, op, out)?;
    for f in source.schema().fields() {
        write_extension_key("", f.name(), out);
        let value = source.get_or_default(f.name()).unwrap_or(&Value::Null);
        let (ty, optional) = (f.schema().schema_type(), f.schema().is_optional());
        write_extension_value(("", f.name()), ty, optional, value, out)?;
    }
    let tx = match record.schema().field("transaction") {
        Some(_) => match field(record, "transaction")? {
            Value::Struct(s) => Some(s),
            _ => None,
        },
        None => None,
    };
    for (i, (tx_field, ty)) in TX_FIELDS.into_iter().enumerate() {
        write_extension_key("tx", tx_field, out);
        let value = tx.and_then(|t| t.get_index(i)).unwrap_or(&Value::Null);
        write_extension_value(("tx", tx_field), ty, true, value, out)?;
    }
    Ok(())
}

impl Converter for CloudEventsConverter {
    /// Debezium's CloudEventsConverter does not override `Converter.config()`: Connect lists
    /// and validates no options for it ([`CloudEventsConverter::definition`] parses them).
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, config: &ConfigMap, is_key: bool) -> Result<(), ConfigError> {
        self.configure_options(config, is_key)
    }

    /// An event whose schema is not a Debezium envelope (`*.Envelope`) becomes null, as in
    /// Debezium (heartbeats, transaction metadata, tombstones).
    fn from_connect_into(
        &self,
        _topic: &str,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, DataError> {
        out.clear();
        let Some(schema) = schema.filter(|_| !value.is_null()) else {
            return Ok(false);
        };
        let Some(name) = schema.name() else {
            return Err(DataError::new(
                "CloudEventsConverter: the value schema has no name, so it is no Debezium change event envelope",
            ));
        };
        if !name.ends_with(".Envelope") {
            return Ok(false);
        }
        if schema.schema_type() != SchemaType::Struct {
            return Err(DataError::new("Mismatching schema"));
        }
        let Value::Struct(record) = value else {
            return Err(DataError::new(format!(
                "Only Struct objects supported for [CloudEvents converter], found: {}",
                java::class_name(value)
            )));
        };
        let res = self.write_event(schema, record, out);
        if res.is_err() {
            out.clear();
        }
        res.map(|()| true)
    }

    /// A JSON CloudEvent read back schemaless, its `data` read with or without schema as
    /// `json.schemas.enable` says.
    fn to_connect(&self, _topic: &str, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError> {
        self.read_event(data)
    }
}

#[cfg(test)]
mod tests;
