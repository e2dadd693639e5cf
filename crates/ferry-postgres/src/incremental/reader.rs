//! The incremental snapshot's SQL: the table's largest key, one chunk of rows after a
//! key, and the watermark rows written into the signal table.

use std::sync::Arc;

use bytes::Bytes;
use ferry_core::Struct;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::javaser::KeyValue;
use crate::error::{PgError, Result};
use crate::pgoutput::TupleValue;
use crate::replication::quote_ident;
use crate::schema::{TableId, TableSchema};

/// What a chunk query needs to know about a table.
#[derive(Clone, Debug)]
pub struct ChunkTable {
    /// The table.
    pub id: TableId,
    /// Key columns (the primary key, or the surrogate key) with their type OIDs.
    pub key: Vec<(String, u32)>,
    /// `additional-conditions` filter for this table (empty: none).
    pub condition: String,
}

const INT2: u32 = 21;
const INT4: u32 = 23;
const INT8: u32 = 20;

/// The Java value Debezium holds for a key column of type `oid` with text `text`.
pub fn key_value(oid: u32, text: Option<&str>) -> KeyValue {
    match text {
        None => KeyValue::Null,
        Some(t) => match oid {
            INT2 | INT4 => t
                .parse()
                .map(KeyValue::Int)
                .unwrap_or_else(|_| KeyValue::Str(t.into())),
            INT8 => t
                .parse()
                .map(KeyValue::Long)
                .unwrap_or_else(|_| KeyValue::Str(t.into())),
            _ => KeyValue::Str(t.into()),
        },
    }
}

fn literal(v: &KeyValue) -> String {
    match v.as_text() {
        None => "NULL".into(),
        Some(t) => format!("'{}'", t.replace('\'', "''")),
    }
}

impl ChunkTable {
    fn qualified(&self) -> String {
        format!("{}.{}", quote_ident(&self.id.schema), quote_ident(&self.id.table))
    }

    fn key_columns(&self, suffix: &str) -> String {
        self.key
            .iter()
            .map(|(c, _)| format!("{}{suffix}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn row_literal(&self, key: &[KeyValue]) -> String {
        key.iter().map(literal).collect::<Vec<_>>().join(", ")
    }

    /// `SELECT key FROM t [WHERE cond] ORDER BY key DESC LIMIT 1`.
    pub fn max_key_query(&self) -> String {
        let cond = if self.condition.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.condition)
        };
        format!(
            "SELECT {} FROM {}{cond} ORDER BY {} LIMIT 1",
            self.key_columns(""),
            self.qualified(),
            self.key_columns(" DESC")
        )
    }

    /// The rows after `after` up to `max` (both keys), in key order, at most `limit`.
    pub fn chunk_query(&self, after: Option<&[KeyValue]>, max: &[KeyValue], limit: usize) -> String {
        let cols = self.key_columns("");
        let mut conds = Vec::with_capacity(3);
        if !self.condition.is_empty() {
            conds.push(format!("({})", self.condition));
        }
        if let Some(a) = after {
            conds.push(format!("(({cols}) > ({}))", self.row_literal(a)));
        }
        conds.push(format!("NOT (({cols}) > ({}))", self.row_literal(max)));
        format!(
            "SELECT * FROM {} WHERE {} ORDER BY {cols} LIMIT {limit}",
            self.qualified(),
            conds.join(" AND ")
        )
    }

    /// The table's largest key (`None` when it has no rows).
    pub async fn max_key(&self, client: &Client) -> Result<Option<Vec<KeyValue>>> {
        let msgs = client
            .simple_query(&self.max_key_query())
            .await
            .map_err(|e| PgError::sql(format!("maximum key of {}", self.id), e))?;
        for m in msgs {
            if let SimpleQueryMessage::Row(r) = m {
                return Ok(Some(
                    self.key
                        .iter()
                        .enumerate()
                        .map(|(i, (_, oid))| key_value(*oid, r.get(i)))
                        .collect(),
                ));
            }
        }
        Ok(None)
    }

    /// Reads one chunk: each row's key values and its row struct.
    pub async fn read_chunk(
        &self,
        client: &Client,
        ts: &Arc<TableSchema>,
        after: Option<&[KeyValue]>,
        max: &[KeyValue],
        limit: usize,
        placeholder: &str,
    ) -> Result<Vec<(Vec<KeyValue>, Struct)>> {
        let sql = self.chunk_query(after, max, limit);
        let msgs = client
            .simple_query(&sql)
            .await
            .map_err(|e| PgError::sql(format!("incremental snapshot chunk of {}", self.id), e))?;
        let mut out = Vec::new();
        let mut mapping: Option<(Vec<Option<usize>>, Vec<usize>)> = None;
        let mut values: Vec<TupleValue> = Vec::new();
        for m in msgs {
            let SimpleQueryMessage::Row(row) = m else { continue };
            let (map, key_pos) = mapping.get_or_insert_with(|| {
                let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                let map = names.iter().map(|n| ts.column_index(n)).collect();
                let key_pos = self
                    .key
                    .iter()
                    .map(|(k, _)| names.iter().position(|n| n == k).unwrap_or(usize::MAX))
                    .collect();
                (map, key_pos)
            });
            values.clear();
            for i in 0..row.len() {
                values.push(match row.get(i) {
                    None => TupleValue::Null,
                    Some(s) => TupleValue::Text(Bytes::copy_from_slice(s.as_bytes())),
                });
            }
            let key = self
                .key
                .iter()
                .zip(key_pos.iter())
                .map(|((_, oid), p)| key_value(*oid, row.get(*p)))
                .collect();
            let s = ts
                .row(map.iter().copied().zip(values.iter()), placeholder)
                .map_err(PgError::Data)?;
            out.push((key, s));
        }
        Ok(out)
    }
}

/// Inserts a watermark row `(id, type, data)` into the signal table in its own transaction.
pub async fn insert_signal(client: &Client, table: &TableId, id: &str, kind: &str, data: &str) -> Result<()> {
    let sql = format!(
        "INSERT INTO {}.{} VALUES ($1, $2, $3)",
        quote_ident(&table.schema),
        quote_ident(&table.table)
    );
    let what = format!("writing a watermark into {table}");
    in_own_transaction(client, &sql, &[&id, &kind, &data], what).await
}

/// Deletes the watermark row `id` from the signal table in its own transaction (the
/// window close of `incremental.snapshot.watermarking.strategy=insert_delete`).
pub async fn delete_signal(client: &Client, table: &TableId, id: &str) -> Result<()> {
    let sql = format!(
        "DELETE FROM {}.{} WHERE id = $1",
        quote_ident(&table.schema),
        quote_ident(&table.table)
    );
    let what = format!("deleting a watermark from {table}");
    in_own_transaction(client, &sql, &[&id], what).await
}

/// Runs one watermark statement in a transaction of its own, flushed at commit even
/// where synchronous_commit is off: the stream sees the marker (and the chunk goes out)
/// at once instead of after the WAL writer's next round.
async fn in_own_transaction(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    what: String,
) -> Result<()> {
    let err = |e| PgError::sql(what.clone(), e);
    client
        .batch_execute("BEGIN; SET LOCAL synchronous_commit = on")
        .await
        .map_err(err)?;
    if let Err(e) = client.execute(sql, params).await {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(err(e));
    }
    client.batch_execute("COMMIT").await.map_err(err)?;
    Ok(())
}

/// The key columns of a table, with their type OIDs: the primary key, or `surrogate`.
pub async fn key_columns(client: &Client, table: &TableId, surrogate: &str) -> Result<Vec<(String, u32)>> {
    let rows = client
        .query(
            "SELECT a.attname::text, a.atttypid::oid, \
                    coalesce(array_position(i.indkey::int2[], a.attnum), -1)::int4 AS pos \
               FROM pg_attribute a \
               JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary \
              WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
              ORDER BY pos, a.attnum",
            &[&table.schema, &table.table],
        )
        .await
        .map_err(|e| PgError::sql(format!("key columns of {table}"), e))?;
    let all: Vec<(String, u32, i32)> = rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    if !surrogate.is_empty() {
        return Ok(all
            .into_iter()
            .filter(|(n, _, _)| n == surrogate)
            .map(|(n, o, _)| (n, o))
            .collect());
    }
    Ok(all
        .into_iter()
        .filter(|(_, _, p)| *p >= 0)
        .map(|(n, o, _)| (n, o))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_queries_compare_row_values_and_quote() {
        let t = ChunkTable {
            id: TableId {
                schema: "public".into(),
                table: "Orders".into(),
            },
            key: vec![("a".into(), INT4), ("b".into(), 25)],
            condition: "x > 1".into(),
        };
        assert_eq!(
            t.max_key_query(),
            r#"SELECT "a", "b" FROM "public"."Orders" WHERE x > 1 ORDER BY "a" DESC, "b" DESC LIMIT 1"#
        );
        let after = [KeyValue::Int(3), KeyValue::Str("o'k".into())];
        let max = [KeyValue::Int(9), KeyValue::Str("z".into())];
        assert_eq!(
            t.chunk_query(Some(&after), &max, 10),
            r#"SELECT * FROM "public"."Orders" WHERE (x > 1) AND (("a", "b") > ('3', 'o''k')) AND NOT (("a", "b") > ('9', 'z')) ORDER BY "a", "b" LIMIT 10"#
        );
        assert_eq!(key_value(INT8, Some("12")), KeyValue::Long(12));
        assert_eq!(key_value(INT2, Some("-1")), KeyValue::Int(-1));
        assert_eq!(key_value(2950, Some("u")), KeyValue::Str("u".into()));
    }
}
