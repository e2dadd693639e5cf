//! `io.debezium.transforms.SchemaChangeEventFilter`: drops schema change events whose kind
//! (`CREATE`, `ALTER`, `DROP`, `TRUNCATE`, `DATABASE`) is in
//! `schema.change.event.exclude.list`; every other record passes unchanged. The PostgreSQL
//! connector emits no schema change events, so on its records this is the identity.

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Transformation, Value,
};

use crate::util;

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.SchemaChangeEventFilter";

const EXCLUDE_LIST: &str = "schema.change.event.exclude.list";
const TABLE_CHANGES: &str = "tableChanges";
const ENUM_CLASS: &str = "io.debezium.schema.SchemaChangeEvent.SchemaChangeEventType";

/// The kinds of schema change, as Debezium's `SchemaChangeEventType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SchemaChangeKind {
    Create,
    Alter,
    Drop,
    Truncate,
    Database,
}

impl SchemaChangeKind {
    /// Java's `valueOf`: exact, case-sensitive names.
    fn value_of(name: &str) -> Result<Self, DataError> {
        Ok(match name {
            "CREATE" => SchemaChangeKind::Create,
            "ALTER" => SchemaChangeKind::Alter,
            "DROP" => SchemaChangeKind::Drop,
            "TRUNCATE" => SchemaChangeKind::Truncate,
            "DATABASE" => SchemaChangeKind::Database,
            other => return Err(DataError::new(format!("No enum constant {ENUM_CLASS}.{other}"))),
        })
    }
}

/// The schema change event filter.
#[derive(Debug, Default)]
pub struct SchemaChangeEventFilter {
    excluded: Vec<SchemaChangeKind>,
}

fn config_def() -> ConfigDef {
    ConfigDef::new().define(
        util::debezium_field(
            EXCLUDE_LIST,
            ConfigType::String,
            "Schema change event exclude list",
        )
        .width(Width::Short)
        .importance(Importance::High)
        .doc(
            "Comma-separated kinds of schema change event to drop: CREATE, ALTER, DROP, TRUNCATE, DATABASE.",
        ),
    )
}

/// A schema change event's value schema name (`*.SchemaChangeValue`, or the key's).
fn is_schema_change(record: &Record) -> bool {
    record
        .value_schema
        .as_ref()
        .and_then(|s| s.name())
        .is_some_and(|n| n.ends_with(".SchemaChangeValue") || n.ends_with(".SchemaChangeKey"))
}

impl Transformation for SchemaChangeEventFilter {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let raw = config.get(EXCLUDE_LIST).map(String::as_str);
        let Some(list) = raw.filter(|v| !v.trim().is_empty()) else {
            return Err(ConfigError::invalid(
                EXCLUDE_LIST,
                raw.unwrap_or("null"),
                format!("The '{EXCLUDE_LIST}' value is invalid: A value is required"),
            ));
        };
        // Java's split drops trailing empty strings.
        let mut names: Vec<&str> = list.split(',').collect();
        while names.last().is_some_and(|n| n.is_empty()) {
            names.pop();
        }
        self.excluded = names
            .into_iter()
            .map(|n| SchemaChangeKind::value_of(n.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| ConfigError::other(Some(EXCLUDE_LIST), e.message()))?;
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        if record.value.is_null() || !is_schema_change(&record) {
            return Ok(Some(record));
        }
        let value = util::require_struct(&record.value, "Read schema change event to filter")?;
        let kind = match util::get(value, TABLE_CHANGES)? {
            Value::Null => return Ok(None),
            Value::Array(changes) => match changes.first() {
                None => SchemaChangeKind::Database,
                Some(Value::Struct(change)) => match util::get(change, "type")? {
                    Value::String(t) => SchemaChangeKind::value_of(t)?,
                    _ => return Err(DataError::new("The table change has no type").into()),
                },
                Some(_) => return Err(DataError::new("A table change is not a struct").into()),
            },
            _ => return Err(DataError::new(format!("Field '{TABLE_CHANGES}' is not of type ARRAY")).into()),
        };
        Ok((!self.excluded.contains(&kind)).then_some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{Schema, Struct};

    fn filter(list: &str) -> SchemaChangeEventFilter {
        let mut f = SchemaChangeEventFilter::default();
        let config: ConfigMap = [(EXCLUDE_LIST.to_owned(), list.to_owned())].into_iter().collect();
        f.configure(&config).unwrap();
        f
    }

    fn change_event(types: Option<&[&str]>) -> Record {
        let change = Schema::struct_builder()
            .name("io.debezium.connector.schema.Change")
            .field("type", Schema::string())
            .build();
        let schema = Schema::struct_builder()
            .name("io.debezium.connector.mysql.SchemaChangeValue")
            .field("ddl", Schema::optional_string())
            .field("tableChanges", Schema::array(change.clone()).optional().build())
            .build();
        let changes = types.map_or(Value::Null, |ts| {
            Value::Array(
                ts.iter()
                    .map(|t| {
                        Value::Struct(Struct::from_values(change.clone(), vec![Value::from(*t)]).unwrap())
                    })
                    .collect(),
            )
        });
        let value = Struct::from_values(schema.clone(), vec![Value::from("DDL"), changes]).unwrap();
        Record::new("t", Some(schema), Value::Struct(value))
    }

    #[test]
    fn drops_the_excluded_kinds_by_the_first_table_change() {
        let mut f = filter("ALTER, DROP");
        assert!(f
            .apply(change_event(Some(&["ALTER", "CREATE"])))
            .unwrap()
            .is_none());
        assert!(f.apply(change_event(Some(&["DROP"]))).unwrap().is_none());
        assert!(f
            .apply(change_event(Some(&["CREATE", "ALTER"])))
            .unwrap()
            .is_some());
        // No table change is a DATABASE event; a null list is always dropped.
        assert!(f.apply(change_event(Some(&[]))).unwrap().is_some());
        assert!(filter("DATABASE")
            .apply(change_event(Some(&[])))
            .unwrap()
            .is_none());
        assert!(f.apply(change_event(None)).unwrap().is_none());
        let e = f.apply(change_event(Some(&["RENAME"]))).unwrap_err();
        assert!(e.to_string().contains("No enum constant"), "{e}");
    }

    #[test]
    fn other_records_pass() {
        let mut f = filter("CREATE,ALTER,DROP,TRUNCATE,DATABASE,");
        let schema = Schema::struct_builder()
            .name("a.b.c.Envelope")
            .field("op", Schema::string())
            .build();
        let value = Struct::from_values(schema.clone(), vec![Value::from("c")]).unwrap();
        let r = Record::new("t", Some(schema), Value::Struct(value));
        assert_eq!(f.apply(r.clone()).unwrap(), Some(r));
        let tombstone = Record::new("t", None, Value::Null);
        assert_eq!(f.apply(tombstone.clone()).unwrap(), Some(tombstone));
    }

    #[test]
    fn the_list_is_required_and_checked() {
        let mut f = SchemaChangeEventFilter::default();
        let e = f.configure(&ConfigMap::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value null for configuration schema.change.event.exclude.list: \
             The 'schema.change.event.exclude.list' value is invalid: A value is required"
        );
        let config: ConfigMap = [(EXCLUDE_LIST.to_owned(), "create".to_owned())]
            .into_iter()
            .collect();
        let e = f.configure(&config).unwrap_err();
        assert_eq!(
            e.to_string(),
            "No enum constant io.debezium.schema.SchemaChangeEvent.SchemaChangeEventType.create"
        );
        let def = config_def();
        let key = def.key(EXCLUDE_LIST).unwrap();
        assert!(!key.is_required());
        assert_eq!(key.importance, Importance::High);
    }
}
