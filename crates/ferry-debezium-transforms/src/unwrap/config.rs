//! Options of `ExtractNewRecordState`.

use ferry_core::config::Width;
use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance, Validator,
};

use super::field_ref::FieldReference;

pub(crate) const DELETE_TOMBSTONE_HANDLING_MODE: &str = "delete.tombstone.handling.mode";
pub(crate) const ROUTE_BY_FIELD: &str = "route.by.field";
pub(crate) const ADD_FIELDS_PREFIX: &str = "add.fields.prefix";
pub(crate) const ADD_FIELDS: &str = "add.fields";
pub(crate) const ADD_HEADERS_PREFIX: &str = "add.headers.prefix";
pub(crate) const ADD_HEADERS: &str = "add.headers";
pub(crate) const DROP_FIELDS_HEADER_NAME: &str = "drop.fields.header.name";
pub(crate) const DROP_FIELDS_FROM_KEY: &str = "drop.fields.from.key";
pub(crate) const DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE: &str = "drop.fields.keep.schema.compatible";
/// Read from the options but not listed by upstream's config definition.
pub(crate) const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";
/// Options removed in Debezium 3.2, still honoured when the current mode is absent.
pub(crate) const LEGACY_DROP_TOMBSTONES: &str = "drop.tombstones";
pub(crate) const LEGACY_DELETE_HANDLING_MODE: &str = "delete.handling.mode";

const MODES: &[&str] = &[
    "drop",
    "tombstone",
    "rewrite",
    "rewrite-with-tombstone",
    "delete-to-tombstone",
];
const LEGACY_MODES: &[&str] = &["drop", "rewrite", "none"];

/// What happens to a tombstone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TombstoneAction {
    /// Dropped.
    Drop,
    /// Passed on.
    Keep,
}

/// What happens to a delete event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteAction {
    /// Dropped.
    Drop,
    /// Null value, keeping the row's value schema.
    Tombstone,
    /// Null value and no value schema.
    ToTombstone,
    /// The `before` row with `__deleted=true`.
    Rewrite,
}

/// Delete and tombstone handling derived from the mode options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteHandling {
    /// Tombstones.
    pub tombstone: TombstoneAction,
    /// Delete events.
    pub delete: DeleteAction,
    /// Whether creates/updates get `__deleted=false`.
    pub rewrite: bool,
}

impl DeleteHandling {
    fn from_mode(mode: &str) -> Option<Self> {
        use DeleteAction as D;
        use TombstoneAction as T;
        let (tombstone, delete) = match mode.trim().to_ascii_lowercase().as_str() {
            "drop" => (T::Drop, D::Drop),
            "tombstone" => (T::Drop, D::Tombstone),
            "rewrite" => (T::Drop, D::Rewrite),
            "rewrite-with-tombstone" => (T::Keep, D::Rewrite),
            "delete-to-tombstone" => (T::Drop, D::ToTombstone),
            _ => return None,
        };
        Some(DeleteHandling {
            tombstone,
            delete,
            rewrite: delete == D::Rewrite,
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UnwrapConfig {
    pub handling: DeleteHandling,
    pub route_by_field: Option<String>,
    pub fields: Vec<FieldReference>,
    pub headers: Vec<FieldReference>,
    pub drop_fields_header: Option<String>,
    pub drop_fields_from_key: bool,
    pub drop_fields_keep_schema_compatible: bool,
    pub replace_null_with_default: bool,
    /// Some reference reads `before`/`after`, so the row must stay in the envelope.
    pub refs_read_state: bool,
}

fn enum_validator(values: &'static [&'static str]) -> Validator {
    Validator::custom(move |_, v| match v {
        ConfigValue::String(s) if values.iter().any(|x| x.eq_ignore_ascii_case(s.trim())) => Ok(()),
        _ => Err(format!("Value must be one of {}", values.join(", "))),
    })
}

/// The option definitions as upstream lists them (no group).
pub(crate) fn config_def() -> ConfigDef {
    let k = |name: &str, ty: ConfigType, width: Width, display: &str| {
        ConfigKey::new(name, ty)
            .importance(Importance::Low)
            .width(width)
            .display_name(display)
    };
    // Upstream defines these without a group, each with order 1.
    let ungrouped = |mut key: ConfigKey| {
        key.order_in_group = 1;
        key
    };
    ConfigDef::new()
        .define(ungrouped(
            k(DELETE_TOMBSTONE_HANDLING_MODE, ConfigType::String, Width::Medium, "Handle delete and tombstone records")
                .importance(Importance::Medium)
                .default_value("tombstone")
                .validator(enum_validator(MODES))
                .doc("Delete and tombstone handling: drop, tombstone, rewrite, rewrite-with-tombstone or delete-to-tombstone."),
        ))
        .define(ungrouped(
            k(ROUTE_BY_FIELD, ConfigType::String, Width::Long, "Route by field name")
                .default_value("")
                .doc("Column whose value replaces the topic name."),
        ))
        .define(ungrouped(
            k(ADD_FIELDS_PREFIX, ConfigType::String, Width::Short, "Field prefix to be added to each field.")
                .default_value("__")
                .doc("Prefix of fields added by add.fields."),
        ))
        .define(ungrouped(
            k(ADD_FIELDS, ConfigType::List, Width::Long, "Adds the specified field(s) to the message if they exist.")
                .default_value("")
                .doc("Envelope metadata copied into the value: field, struct.field, optionally :alias."),
        ))
        .define(ungrouped(
            k(ADD_HEADERS_PREFIX, ConfigType::String, Width::Short, "Header prefix to be added to each header.")
                .default_value("__")
                .doc("Prefix of headers added by add.headers."),
        ))
        .define(ungrouped(
            k(ADD_HEADERS, ConfigType::List, Width::Long, "Adds the specified fields to the header if they exist.")
                .default_value("")
                .doc("Envelope metadata copied into headers: field, struct.field, optionally :alias."),
        ))
        .define(ungrouped(
            k(DROP_FIELDS_HEADER_NAME, ConfigType::String, Width::Short, "Specifies a header that contains a list of field names to be removed")
                .default_null()
                .doc("Header holding a list of field names to remove from the value."),
        ))
        .define(ungrouped(
            k(DROP_FIELDS_FROM_KEY, ConfigType::Boolean, Width::Short, "Specifies whether the fields to be dropped should also be omitted from the key")
                .default_value("false")
                .doc("Also remove the listed fields from the key."),
        ))
        .define(ungrouped(
            k(DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE, ConfigType::Boolean, Width::Short, "Specifies if fields are dropped, will the event's schemas be compatible")
                .default_value("true")
                .doc("true removes only optional fields; false removes every listed field."),
        ))
}

fn bool_option(props: &ConfigMap, key: &str, default: bool) -> Result<bool, ConfigError> {
    match props.get(key) {
        None => Ok(default),
        Some(raw) => match ferry_core::config::parse_type(key, raw, ConfigType::Boolean)? {
            ConfigValue::Boolean(b) => Ok(b),
            _ => Ok(default),
        },
    }
}

fn legacy_handling(props: &ConfigMap) -> Result<Option<DeleteHandling>, ConfigError> {
    let has_drop = props.contains_key(LEGACY_DROP_TOMBSTONES);
    let mode = props.get(LEGACY_DELETE_HANDLING_MODE);
    if !has_drop && mode.is_none() {
        return Ok(None);
    }
    tracing::warn!(
        "The options \"drop.tombstones\" and \"delete.handling.mode\" are deprecated; use \"delete.tombstone.handling.mode\""
    );
    let drop_tombstones = bool_option(props, LEGACY_DROP_TOMBSTONES, true)?;
    let delete = match mode.map(|m| m.trim().to_ascii_lowercase()).as_deref() {
        None | Some("drop") => DeleteAction::Drop,
        Some("none") => DeleteAction::Tombstone,
        Some("rewrite") => DeleteAction::Rewrite,
        Some(_) => {
            return Err(ConfigError::invalid(
                LEGACY_DELETE_HANDLING_MODE,
                mode.map(String::as_str).unwrap_or_default(),
                format!("Value must be one of {}", LEGACY_MODES.join(", ")),
            ))
        }
    };
    Ok(Some(DeleteHandling {
        tombstone: if drop_tombstones {
            TombstoneAction::Drop
        } else {
            TombstoneAction::Keep
        },
        delete,
        rewrite: delete == DeleteAction::Rewrite,
    }))
}

impl UnwrapConfig {
    pub(crate) fn parse(props: &ConfigMap) -> Result<Self, ConfigError> {
        let p = config_def().parse(props)?;
        let handling = match legacy_handling(props)? {
            Some(h) if !props.contains_key(DELETE_TOMBSTONE_HANDLING_MODE) => h,
            _ => {
                let mode = p.string(DELETE_TOMBSTONE_HANDLING_MODE).unwrap_or("tombstone");
                DeleteHandling::from_mode(mode).ok_or_else(|| {
                    ConfigError::invalid(
                        DELETE_TOMBSTONE_HANDLING_MODE,
                        mode,
                        format!("Value must be one of {}", MODES.join(", ")),
                    )
                })?
            }
        };
        // Prefixes are used verbatim (an explicitly empty prefix is allowed).
        let prefix = |k: &str| props.get(k).cloned().unwrap_or_else(|| "__".into());
        let fields = FieldReference::parse_list(&prefix(ADD_FIELDS_PREFIX), p.list(ADD_FIELDS), ADD_FIELDS)?;
        let headers =
            FieldReference::parse_list(&prefix(ADD_HEADERS_PREFIX), p.list(ADD_HEADERS), ADD_HEADERS)?;
        let refs_read_state = fields
            .iter()
            .chain(&headers)
            .any(|r| matches!(r.parent.as_deref(), Some("before") | Some("after")));
        Ok(UnwrapConfig {
            handling,
            route_by_field: p
                .string(ROUTE_BY_FIELD)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            fields,
            headers,
            drop_fields_header: p
                .string(DROP_FIELDS_HEADER_NAME)
                .filter(|s| !java::collections::is_blank(s))
                .map(str::to_owned),
            drop_fields_from_key: p.boolean(DROP_FIELDS_FROM_KEY),
            drop_fields_keep_schema_compatible: p.boolean(DROP_FIELDS_KEEP_SCHEMA_COMPATIBLE),
            replace_null_with_default: bool_option(props, REPLACE_NULL_WITH_DEFAULT, true)?,
            refs_read_state,
        })
    }
}
