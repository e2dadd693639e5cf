//! Table metadata (read from the catalog) and the Connect schemas Debezium
//! derives from it: key, row value and envelope, cached per table.

use std::collections::HashMap;
use std::sync::Arc;

use ferry_core::{Schema, Struct, Value};
use tokio_postgres::Client;

use crate::config::{truncate_utf16, ColumnMapping, HashAlgorithm, PostgresConfig};
use crate::error::{PgError, Result};
use crate::pgoutput::{Relation, TupleValue};
use crate::types::{Converter, PgType, TypeOptions};

/// A table's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableId {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
}

impl std::fmt::Display for TableId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// One column from the catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnMeta {
    /// Name.
    pub name: String,
    /// Type.
    pub ty: PgType,
    /// NULL allowed.
    pub nullable: bool,
    /// Column comment (unused in schemas: Debezium's PostgreSQL connector reads none).
    pub comment: Option<String>,
    /// Default expression (`pg_get_expr` of the column default; none for generated columns).
    pub default_expr: Option<String>,
}

/// A table from the catalog.
#[derive(Clone, Debug, PartialEq)]
pub struct TableMeta {
    /// Table OID.
    pub oid: u32,
    /// Identity.
    pub id: TableId,
    /// Columns in table order.
    pub columns: Vec<ColumnMeta>,
    /// Primary key columns, in key order.
    pub primary_key: Vec<String>,
}

const COLUMNS_SQL: &str = "SELECT a.attname::text, \
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END AS typid, \
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod, \
       NOT a.attnotnull, col_description(a.attrelid, a.attnum), \
       (SELECT string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = a.atttypid), \
       CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0::oid END, \
       (SELECT string_agg(e.enumlabel::text, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.typelem), \
       (SELECT b.typname::text FROM pg_type b WHERE b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END), \
       (SELECT b.typname::text FROM pg_type b WHERE b.oid = t.typelem), \
       (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d \
         WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.attgenerated = '') \
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
 WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped \
 ORDER BY a.attnum";

/// The key columns: the primary key's, or for a table without one the first unique index
/// by name whose columns are all plain columns (no expression), as Debezium's
/// `readTableUniqueIndices` picks them from the JDBC index info.
const PK_SQL: &str =
    "WITH pk AS (SELECT i.indkey FROM pg_index i WHERE i.indrelid = $1 AND i.indisprimary), \
  uq AS (SELECT i.indkey FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
   WHERE i.indrelid = $1 AND i.indisunique AND i.indexprs IS NULL AND NOT (0 = ANY(i.indkey::int2[])) \
   ORDER BY ic.relname LIMIT 1), \
  k AS (SELECT indkey FROM pk UNION ALL SELECT indkey FROM uq WHERE NOT EXISTS (SELECT 1 FROM pk)) \
 SELECT a.attname::text FROM k JOIN pg_attribute a ON a.attrelid = $1 AND a.attnum = ANY(k.indkey) \
 ORDER BY array_position(k.indkey::int2[], a.attnum)";

/// Reads a table's metadata by OID.
pub async fn load_table(client: &Client, oid: u32) -> Result<Option<TableMeta>> {
    let row = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
            &[&oid],
        )
        .await
        .map_err(|e| PgError::sql("reading table metadata", e))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id = TableId {
        schema: row.get(0),
        table: row.get(1),
    };
    let rows = client
        .query(COLUMNS_SQL, &[&oid])
        .await
        .map_err(|e| PgError::sql("reading column metadata", e))?;
    let columns = rows
        .iter()
        .map(|r| {
            let typid: u32 = r.get(1);
            let enum_values: Option<String> = r.get(5);
            let elem: u32 = r.get(6);
            let elem_enum: Option<String> = r.get(7);
            let split = |s: String| s.split(',').map(str::to_string).collect::<Vec<_>>();
            let element = (elem != 0).then(|| {
                Box::new(PgType {
                    oid: elem,
                    typmod: r.get(2),
                    enum_values: elem_enum.map(split),
                    element: None,
                    name: r.get(9),
                })
            });
            ColumnMeta {
                name: r.get(0),
                ty: PgType {
                    oid: typid,
                    typmod: r.get(2),
                    enum_values: enum_values.map(split),
                    element,
                    name: r.get(8),
                },
                nullable: r.get(3),
                comment: r.get(4),
                default_expr: r.get(10),
            }
        })
        .collect();
    let pk = client
        .query(PK_SQL, &[&oid])
        .await
        .map_err(|e| PgError::sql("reading primary key", e))?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    Ok(Some(TableMeta {
        oid,
        id,
        columns,
        primary_key: pk,
    }))
}

/// One captured column of a [`TableSchema`].
#[derive(Clone, Debug)]
pub struct SchemaColumn {
    /// Column name.
    pub name: String,
    /// Value converter (its schema is the field schema).
    pub converter: Converter,
    /// Position in the key struct, for key columns.
    pub key_index: Option<usize>,
    /// What a column rule does to its values (after conversion), if anything.
    pub value_rule: Option<ValueRule>,
    /// The field schema of a struct-valued column (a `point`) whose rule added schema
    /// parameters: its values are rebuilt on it, so that value and field schema agree.
    pub struct_schema: Option<Schema>,
}

/// A column rule's effect on values, applied after the type conversion as Debezium's
/// mapping converters are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueRule {
    /// Strings cut to this many UTF-16 units.
    Truncate(usize),
    /// Every value (null too) replaced by this mask.
    Mask(String),
    /// Strings replaced by their salted hash, cut to `max_chars`.
    Hash {
        /// The digest.
        algorithm: HashAlgorithm,
        /// Salt bytes.
        salt: Vec<u8>,
        /// Hashing strategy v2 (UTF-8 bytes) instead of v1 (Java serialization).
        v2: bool,
        /// The column's length, when it bounds the hash.
        max_chars: Option<usize>,
    },
}

impl ValueRule {
    /// The value after the rule.
    pub fn apply(&self, value: Value) -> Value {
        match (self, value) {
            // MaskingValueConverter returns the mask whatever it is given.
            (ValueRule::Mask(mask), _) => Value::String(mask.clone()),
            (ValueRule::Truncate(n), Value::String(s)) => {
                let cut = truncate_utf16(&s, *n);
                if cut.len() == s.len() {
                    Value::String(s)
                } else {
                    Value::String(cut.to_string())
                }
            }
            (
                ValueRule::Hash {
                    algorithm,
                    salt,
                    v2,
                    max_chars,
                },
                Value::String(s),
            ) => {
                let hash = ColumnMapping::hash_string(*algorithm, salt, *v2, &s);
                Value::String(match max_chars {
                    Some(n) => truncate_utf16(&hash, *n).to_string(),
                    None => hash,
                })
            }
            // Hashing a null (not Serializable) gives null.
            (ValueRule::Hash { .. }, _) => Value::Null,
            (ValueRule::Truncate(_), v) => v,
        }
    }
}

/// The schema parameters and value rule a column rule gives column `c` (Debezium's
/// `ColumnMapper.alterFieldSchema` and `create`).
fn apply_column_rule(
    mapping: &ColumnMapping,
    c: &ColumnMeta,
    field: ferry_core::SchemaBuilder,
) -> (ferry_core::SchemaBuilder, Option<ValueRule>) {
    let length = c.ty.source_length();
    match mapping {
        ColumnMapping::Truncate(n) => {
            // TruncateColumn.isTruncationPossible: length unknown or above the limit.
            if length < 0 || length as usize > *n {
                (
                    field.parameter("truncateLength", n.to_string()),
                    Some(ValueRule::Truncate(*n)),
                )
            } else {
                (field, None)
            }
        }
        ColumnMapping::Mask(n) => (
            field.parameter("masked", "true"),
            c.ty.is_jdbc_character().then(|| ValueRule::Mask("*".repeat(*n))),
        ),
        ColumnMapping::Hash { algorithm, salt, v2 } => (
            field.parameter("masked", "true"),
            c.ty.is_jdbc_character().then(|| ValueRule::Hash {
                algorithm: *algorithm,
                salt: salt.clone(),
                v2: *v2,
                max_chars: (length > 0).then_some(length as usize),
            }),
        ),
        ColumnMapping::PropagateSourceType => {
            let f = field
                .parameter(
                    "__debezium.source.column.type",
                    c.ty.source_type_name().to_uppercase(),
                )
                .parameter("__debezium.source.column.length", length.to_string())
                .parameter("__debezium.source.column.scale", c.ty.source_scale().to_string());
            // No __debezium.source.column.comment: the connector reads no comments.
            (f.parameter("__debezium.source.column.name", c.name.clone()), None)
        }
    }
}

/// The schemas of one table and how to build its key and value structs.
#[derive(Clone, Debug)]
pub struct TableSchema {
    /// Table identity.
    pub id: TableId,
    /// Table OID.
    pub oid: u32,
    /// Destination topic `PREFIX.SCHEMA.TABLE`.
    pub topic: Arc<str>,
    /// Captured columns, in value-field order.
    pub columns: Vec<SchemaColumn>,
    /// Key schema; `None` when the table has no key.
    pub key_schema: Option<Schema>,
    /// Row schema `PREFIX.SCHEMA.TABLE.Value` (optional struct).
    pub value_schema: Schema,
    /// Envelope schema `PREFIX.SCHEMA.TABLE.Envelope`.
    pub envelope_schema: Schema,
    /// The snapshot's SELECT when `snapshot.select.statement.overrides` gives one.
    pub snapshot_select: Option<String>,
    /// The table's primary key columns (whatever `message.key.columns` makes the key).
    pub primary_key: Vec<String>,
    by_name: HashMap<String, usize>,
}

impl TableSchema {
    /// Builds the schemas of a table.
    pub fn build(meta: &TableMeta, cfg: &PostgresConfig) -> TableSchema {
        let opts = TypeOptions::from_config(cfg);
        let prefix = format!("{}.{}.{}", cfg.topic_prefix, meta.id.schema, meta.id.table);
        let key_cols: Vec<String> = match cfg.key_columns_for(&meta.id.schema, &meta.id.table) {
            Some(cols) => cols.to_vec(),
            None => meta.primary_key.clone(),
        };
        let mut columns = Vec::new();
        let mut key_fields: HashMap<String, Schema> = HashMap::new();
        let mut value = Schema::struct_builder().name(format!("{prefix}.Value"));
        for c in &meta.columns {
            if !cfg
                .filters
                .column_included(&meta.id.schema, &meta.id.table, &c.name)
                && !key_cols.contains(&c.name)
            {
                continue;
            }
            let Some(mut conv) = Converter::for_type(&c.ty, c.nullable, &opts) else {
                tracing::warn!(table = %meta.id, column = %c.name, oid = c.ty.oid, "unsupported column type; the column is skipped");
                continue;
            };
            if let Some(default) = c
                .default_expr
                .as_deref()
                .and_then(|e| crate::defaults::default_value(&c.ty, &conv, e))
            {
                conv = conv.with_default(default);
            }
            let field_schema = conv.schema().clone();
            // No doc from column comments: Debezium's PostgreSQL connector reads none (its
            // readTableColumn skips JDBC's REMARKS, whatever include.schema.comments says).
            let is_key = key_cols.contains(&c.name);
            let rule =
                cfg.column_rules
                    .rule_for(&meta.id.schema, &meta.id.table, &c.name, &c.ty.source_type_name());
            let mut value_rule = None;
            let mut value_field = field_schema.clone();
            if let Some(rule) = rule {
                let (b, v) = apply_column_rule(&rule.mapping, c, field_schema.to_builder());
                if is_key && v.is_some() {
                    // The key is read from the row: a rule that changes a key column's
                    // values would change the record key too.
                    tracing::warn!(table = %meta.id, column = %c.name, setting = %rule.key, "column rules that change values are not applied to key columns");
                } else {
                    // Schema-only rules (column.propagate.source.type, a mask on a
                    // non-character column) apply to key columns' value fields too.
                    value_field = b.build();
                    value_rule = v;
                }
            }
            let struct_schema = (value_field.schema_type() == ferry_core::SchemaType::Struct
                && value_field != field_schema)
                .then(|| value_field.clone());
            key_fields.insert(c.name.clone(), field_schema);
            value = value.field(c.name.clone(), value_field);
            columns.push(SchemaColumn {
                name: c.name.clone(),
                converter: conv,
                key_index: None,
                value_rule,
                struct_schema,
            });
        }
        let value_schema = value.optional().build();
        let mut key_schema = None;
        if !key_cols.is_empty() {
            let mut kb = Schema::struct_builder().name(format!("{prefix}.Key"));
            let mut n = 0;
            for k in &key_cols {
                if let Some(col) = columns.iter_mut().find(|c| &c.name == k) {
                    let f = key_fields.get(k).expect("key column in value").clone();
                    kb = kb.field(k.clone(), f);
                    col.key_index = Some(n);
                    n += 1;
                }
            }
            if n > 0 {
                key_schema = Some(kb.build());
            }
        }
        let envelope_schema = crate::event::envelope_schema(format!("{prefix}.Envelope"), &value_schema);
        let by_name = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        TableSchema {
            id: meta.id.clone(),
            oid: meta.oid,
            topic: Arc::from(prefix.as_str()),
            columns,
            key_schema,
            value_schema,
            envelope_schema,
            snapshot_select: cfg
                .snapshot_select_overrides
                .iter()
                .find(|o| o.schema == meta.id.schema && o.table == meta.id.table)
                .map(|o| o.select.clone()),
            primary_key: meta.primary_key.clone(),
            by_name,
        }
    }

    /// Position of a captured column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// Maps the columns of a Relation message onto this schema's columns.
    pub fn relation_mapping(&self, rel: &Relation) -> Vec<Option<usize>> {
        rel.columns.iter().map(|c| self.column_index(&c.name)).collect()
    }

    /// Builds the row struct from text values; `mapping[i]` places input column `i`.
    /// Unchanged TOAST values become `placeholder` (string columns) or null.
    pub fn row<'a>(
        &self,
        values: impl Iterator<Item = (Option<usize>, &'a TupleValue)>,
        placeholder: &str,
    ) -> std::result::Result<Struct, String> {
        let mut s = Struct::new(self.value_schema.clone());
        for (idx, v) in values {
            let Some(i) = idx else { continue };
            let col = &self.columns[i];
            let value = match v {
                TupleValue::Null => Value::Null,
                TupleValue::UnchangedToast => col.converter.toast_placeholder(placeholder),
                TupleValue::Text(b) | TupleValue::Binary(b) => col
                    .converter
                    .convert_bytes(b)
                    .map_err(|e| format!("{}.{}: {e}", self.id, col.name))?,
            };
            s.put_unchecked(i, value);
        }
        // Required columns the tuple left empty (not in an old-key tuple, added after the
        // Relation was sent) get the converter's fallback, as in Debezium; then the column
        // rules map the converted values.
        for (i, col) in self.columns.iter().enumerate() {
            if s.values()[i].is_null() && !col.converter.schema().is_optional() {
                s.put_unchecked(i, col.converter.fallback());
            }
            if let Some(rule) = &col.value_rule {
                let v = s.values()[i].clone();
                s.put_unchecked(i, rule.apply(v));
            }
            if let (Some(schema), Value::Struct(v)) = (&col.struct_schema, &s.values()[i]) {
                if let Ok(v) = Struct::from_values(schema.clone(), v.values().to_vec()) {
                    s.put_unchecked(i, Value::Struct(v));
                }
            }
        }
        Ok(s)
    }

    /// The key struct taken from a row struct; `None` when the table has no key.
    pub fn key_of(&self, row: &Struct) -> Option<Struct> {
        let ks = self.key_schema.as_ref()?;
        let mut k = Struct::new(ks.clone());
        for (i, c) in self.columns.iter().enumerate() {
            if let Some(ki) = c.key_index {
                k.put_unchecked(ki, row.values()[i].clone());
            }
        }
        Some(k)
    }
}
