//! Debezium's reselect post processor (`ReselectColumnsPostProcessor`): a created or
//! updated row whose `after` holds the unavailable-value placeholder (an unchanged
//! TOASTed value) or a null is read again by its key, and those columns are replaced by
//! the values read, converted as the snapshot converts them.
//!
//! As Debezium: snapshot reads (`op: r`), deletes and records without a key struct are
//! left alone, as are the signal table's events; the columns considered are those of the
//! `after` struct, selected by `reselect.columns.include.list` (else
//! `reselect.columns.exclude.list`) on `schema.table:column`; the row is looked up by the
//! table's primary key taken from `after` (`reselect.use.event.key=true`: the record
//! key's fields); a failed query or a row no longer there is logged
//! (`reselect.error.handling.mode=warn`) or fails the task (`fail`).

use std::sync::Arc;

use bigdecimal::BigDecimal;
use bytes::Bytes;
use ferry_core::{Record, Struct, Value};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::config::ReselectSettings;
use crate::error::{PgError, Result};
use crate::pgoutput::TupleValue;
use crate::replication::quote_ident;
use crate::schema::{TableId, TableSchema};

/// What one post processor would query for one change event.
#[derive(Clone, Debug, PartialEq)]
pub struct Reselect {
    /// The event's table.
    pub table: TableId,
    /// The columns to read again, by name, in `after`'s field order.
    pub columns: Vec<String>,
    /// `SELECT cols FROM table WHERE key = 'literal' AND ...`.
    pub query: String,
    /// The key the row is looked up by, for messages.
    pub key: String,
}

/// The change event's envelope parts the post processor needs: its table and `after`.
fn event_table(value: &Value) -> Option<(TableId, &Struct)> {
    let v = value.as_struct()?;
    let after = v.get("after")?.as_struct()?;
    // Snapshot reads come from a SELECT already: nothing to read again.
    if v.get("op")?.as_str()? == "r" {
        return None;
    }
    let source = v.get("source")?.as_struct()?;
    let name = |f: &str| source.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
    name("db")?;
    Some((
        TableId {
            schema: name("schema")?.to_string(),
            table: name("table")?.to_string(),
        },
        after,
    ))
}

/// A key value as an SQL literal PostgreSQL coerces to the key column's type (Debezium
/// binds the Connect value and casts it to the column type: the same values work).
fn literal(v: &Value) -> std::result::Result<String, String> {
    let text = match v {
        Value::Null => return Ok("NULL".to_string()),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(i) => i.to_string(),
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float32(f) => f.to_string(),
        Value::Float64(f) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Decimal(d) => d.to_string(),
        Value::Bytes(b) => {
            let mut s = String::with_capacity(2 + 2 * b.len());
            s.push_str("\\x");
            for byte in b.iter() {
                s.push_str(&format!("{byte:02x}"));
            }
            s
        }
        // VariableScaleDecimal {scale, value}: Debezium unwraps it to its BigDecimal.
        Value::Struct(s) if s.schema().name() == Some(crate::types::names::VARIABLE_SCALE_DECIMAL) => {
            let scale = match s.get("scale") {
                Some(Value::Int32(n)) => i64::from(*n),
                _ => return Err("a VariableScaleDecimal key without scale".into()),
            };
            let Some(Value::Bytes(raw)) = s.get("value") else {
                return Err("a VariableScaleDecimal key without value".into());
            };
            BigDecimal::new(num_bigint::BigInt::from_signed_bytes_be(raw), scale).to_string()
        }
        other => return Err(format!("a {} key value cannot be looked up", other.kind_name())),
    };
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// The query `settings` needs for the change event `record` of table `ts` (placeholder:
/// `unavailable.value.placeholder`); `Ok(None)` when nothing is to be read again, `Err`
/// when the row cannot be looked up (the reason).
pub fn plan(
    settings: &ReselectSettings,
    ts: &TableSchema,
    record: &Record,
    placeholder: &str,
) -> std::result::Result<Option<Reselect>, String> {
    let Some((table, after)) = event_table(&record.value) else {
        return Ok(None);
    };
    let Value::Struct(key) = &record.key else {
        return Ok(None);
    };
    let mut columns = Vec::new();
    for (field, value) in after.schema().fields().iter().zip(after.values()) {
        let Some(col) = ts.column_index(field.name()).map(|i| &ts.columns[i]) else {
            continue;
        };
        let unavailable = !value.is_null() && *value == col.converter.toast_placeholder(placeholder);
        let wanted = if unavailable {
            settings.unavailable_values
        } else {
            settings.null_values && value.is_null()
        };
        if wanted && settings.selects(&table.schema, &table.table, field.name()) {
            columns.push(field.name().to_string());
        }
    }
    if columns.is_empty() {
        return Ok(None);
    }
    let key_values: Vec<(String, &Value)> = if settings.use_event_key {
        key.schema()
            .fields()
            .iter()
            .zip(key.values())
            .map(|(f, v)| (f.name().to_string(), v))
            .collect()
    } else {
        ts.primary_key
            .iter()
            .map(|k| (k.clone(), after.get(k).unwrap_or(&Value::Null)))
            .collect()
    };
    if key_values.is_empty() {
        return Err(format!("table {table} has no primary key"));
    }
    let mut conds = Vec::with_capacity(key_values.len());
    let mut key_text = Vec::with_capacity(key_values.len());
    for (name, v) in &key_values {
        let lit = literal(v).map_err(|e| format!("{e} (column {name})"))?;
        key_text.push(format!("{name}={lit}"));
        conds.push(format!("{} = {lit}", quote_ident(name)));
    }
    let query = format!(
        "SELECT {} FROM {}.{} WHERE {}",
        columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(","),
        quote_ident(&table.schema),
        quote_ident(&table.table),
        conds.join(" AND ")
    );
    Ok(Some(Reselect {
        table,
        columns,
        query,
        key: key_text.join(", "),
    }))
}

/// Puts the values read (`row`: text by column, in `plan.columns` order) into the
/// record's `after`, converted by the table's converters and column rules.
pub fn fill(
    record: &mut Record,
    ts: &TableSchema,
    plan: &Reselect,
    row: &[Option<String>],
    placeholder: &str,
) -> std::result::Result<(), String> {
    let values: Vec<TupleValue> = row
        .iter()
        .map(|t| match t {
            None => TupleValue::Null,
            Some(s) => TupleValue::Text(Bytes::copy_from_slice(s.as_bytes())),
        })
        .collect();
    let mapping: Vec<Option<usize>> = plan.columns.iter().map(|c| ts.column_index(c)).collect();
    let converted = ts.row(mapping.iter().copied().zip(values.iter()), placeholder)?;
    let Value::Struct(envelope) = &mut record.value else {
        return Ok(());
    };
    let Some(after_field) = envelope.schema().field("after").map(|f| f.index()) else {
        return Ok(());
    };
    let Some(Value::Struct(after)) = envelope.get_index(after_field) else {
        return Ok(());
    };
    let mut after = after.clone();
    for (name, idx) in plan.columns.iter().zip(&mapping) {
        let (Some(i), Some(field)) = (idx, after.schema().field(name).map(|f| f.index())) else {
            continue;
        };
        after.put_unchecked(field, converted.values()[*i].clone());
    }
    envelope.put_unchecked(after_field, Value::Struct(after));
    Ok(())
}

/// Runs `processors` over `records` (in place), reading rows through `client`.
/// `table` gives a captured table's schema; `signal` is the signal table.
pub async fn apply(
    client: &Client,
    processors: &[ReselectSettings],
    table: impl Fn(&TableId) -> Option<Arc<TableSchema>>,
    signal: Option<&TableId>,
    placeholder: &str,
    records: &mut [Record],
) -> Result<()> {
    if processors.is_empty() {
        return Ok(());
    }
    for record in records.iter_mut() {
        let Some((id, _)) = event_table(&record.value) else {
            continue;
        };
        if signal == Some(&id) {
            continue;
        }
        let Some(ts) = table(&id) else { continue };
        for settings in processors {
            let fail = |msg: String| -> Result<()> {
                if settings.fail_on_error {
                    Err(PgError::Data(msg))
                } else {
                    tracing::warn!(post_processor = %settings.name, "{msg}");
                    Ok(())
                }
            };
            let plan = match plan(settings, &ts, record, placeholder) {
                Ok(Some(p)) => p,
                Ok(None) => continue,
                Err(e) => {
                    fail(format!("Failed to re-select columns for table {id}: {e}"))?;
                    continue;
                }
            };
            tracing::debug!(post_processor = %settings.name, query = %plan.query, "re-selecting columns");
            let msgs = match client.simple_query(&plan.query).await {
                Ok(m) => m,
                Err(e) => {
                    let reason = e
                        .as_db_error()
                        .map(|d| d.message().to_string())
                        .unwrap_or(e.to_string());
                    fail(format!(
                        "Failed to re-select columns for table {id} and key {}: {reason}",
                        plan.key
                    ))?;
                    continue;
                }
            };
            let mut rows = msgs.into_iter().filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            });
            let Some(row) = rows.next() else {
                fail(format!("Failed to find row in table {id} with key {}", plan.key))?;
                continue;
            };
            if rows.next().is_some() {
                tracing::warn!(
                    "Re-selection detected multiple rows for the same key in table {id}, using first."
                );
            }
            let texts: Vec<Option<String>> = (0..row.len()).map(|i| row.get(i).map(str::to_string)).collect();
            if let Err(e) = fill(record, &ts, &plan, &texts, placeholder) {
                fail(format!("Failed to re-select columns for table {id}: {e}"))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PostgresConfig;
    use crate::schema::{ColumnMeta, TableMeta};
    use crate::types::PgType;
    use ferry_core::{ConfigMap, Schema};

    fn setup(extra: &[(&str, &str)]) -> (PostgresConfig, TableSchema) {
        let mut m: ConfigMap = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "db"),
            ("topic.prefix", "srv"),
            ("post.processors", "r"),
            ("r.type", crate::config::RESELECT_TYPE),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        let cfg = PostgresConfig::parse(&m).unwrap();
        let column = |name: &str, oid: u32, nullable: bool| ColumnMeta {
            name: name.into(),
            ty: PgType::scalar(oid, -1),
            nullable,
            comment: None,
            default_expr: None,
        };
        let meta = TableMeta {
            oid: 1,
            id: TableId {
                schema: "public".into(),
                table: "it's".into(),
            },
            columns: vec![
                column("Id", 25, false),
                column("big", 25, true),
                column("note", 25, true),
                column("qty", 23, true),
            ],
            primary_key: vec!["Id".into()],
        };
        let ts = TableSchema::build(&meta, &cfg);
        (cfg, ts)
    }

    fn record(ts: &TableSchema, op: &str, after: Vec<Value>) -> Record {
        let source = Schema::struct_builder()
            .field("db", Schema::string())
            .field("schema", Schema::string())
            .field("table", Schema::string())
            .build();
        let schema = Schema::struct_builder()
            .field("after", ts.value_schema.clone())
            .field("source", source.clone())
            .field("op", Schema::string())
            .build();
        let after = Struct::from_values(ts.value_schema.clone(), after).unwrap();
        let source = Struct::from_values(
            source,
            vec![
                Value::String("db".into()),
                Value::String("public".into()),
                Value::String("it's".into()),
            ],
        )
        .unwrap();
        let value = Struct::from_values(
            schema.clone(),
            vec![
                Value::Struct(after.clone()),
                Value::Struct(source),
                Value::String(op.into()),
            ],
        )
        .unwrap();
        let mut r = Record::new("t", Some(schema), Value::Struct(value));
        r.key = ts.key_of(&after).map_or(Value::Null, Value::Struct);
        r
    }

    const P: &str = "__debezium_unavailable_value";

    #[test]
    fn the_query_reads_placeholder_and_null_columns_by_primary_key() {
        let (cfg, ts) = setup(&[]);
        let s = &cfg.post_processors[0];
        let row = |op| {
            record(
                &ts,
                op,
                vec![
                    Value::String("o'k".into()),
                    Value::String(P.into()),
                    Value::Null,
                    Value::Int32(1),
                ],
            )
        };
        let p = plan(s, &ts, &row("u"), P).unwrap().unwrap();
        assert_eq!(p.columns, ["big", "note"]);
        assert_eq!(
            p.query,
            r#"SELECT "big","note" FROM "public"."it's" WHERE "Id" = 'o''k'"#
        );
        assert_eq!(p.key, "Id='o''k'");
        assert_eq!(p.table.to_string(), "public.it's");
        // Snapshot reads are left alone; creates are not.
        assert_eq!(plan(s, &ts, &row("r"), P).unwrap(), None);
        assert!(plan(s, &ts, &row("c"), P).unwrap().is_some());
        // Another placeholder is not this one.
        assert_eq!(
            plan(s, &ts, &row("u"), "other").unwrap().unwrap().columns,
            ["note"]
        );
        // The values read replace the columns, converted as the snapshot converts them.
        let mut r = row("u");
        fill(&mut r, &ts, &p, &[Some("real".into()), None], P).unwrap();
        assert_eq!(
            r.value
                .as_struct()
                .unwrap()
                .get("after")
                .unwrap()
                .as_struct()
                .unwrap()
                .values()[1],
            Value::String("real".into())
        );

        // A key, a placeholder and two nulls.
        let keyed_row = || {
            vec![
                Value::String("k".into()),
                Value::String(P.into()),
                Value::Null,
                Value::Null,
            ]
        };
        let (cfg, ts) = setup(&[
            ("r.reselect.null.values", "false"),
            ("r.reselect.use.event.key", "true"),
        ]);
        let s = &cfg.post_processors[0];
        let r = record(&ts, "u", keyed_row());
        let p = plan(s, &ts, &r, P).unwrap().unwrap();
        assert_eq!(p.query, r#"SELECT "big" FROM "public"."it's" WHERE "Id" = 'k'"#);
        let (cfg, ts) = setup(&[
            ("r.reselect.unavailable.values", "false"),
            ("r.reselect.null.values", "false"),
        ]);
        let r = record(&ts, "u", keyed_row());
        assert_eq!(plan(&cfg.post_processors[0], &ts, &r, P).unwrap(), None);
    }

    #[test]
    fn key_values_become_literals_postgresql_coerces() {
        assert_eq!(literal(&Value::Int64(-5)).unwrap(), "'-5'");
        assert_eq!(literal(&Value::Boolean(true)).unwrap(), "'true'");
        assert_eq!(
            literal(&Value::Bytes(Bytes::from_static(b"\x01\xff"))).unwrap(),
            "'\\x01ff'"
        );
        let vsd = crate::types::variable_scale_decimal(false);
        let v = Struct::from_values(
            vsd,
            vec![Value::Int32(2), Value::Bytes(Bytes::from_static(&[0xfe, 0x0c]))],
        )
        .unwrap();
        assert_eq!(literal(&Value::Struct(v)).unwrap(), "'-5.00'");
        assert!(literal(&Value::Array(vec![])).is_err());
    }
}
