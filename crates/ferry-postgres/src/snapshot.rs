//! The initial snapshot: reads captured tables inside one transaction — REPEATABLE READ
//! importing the snapshot a new slot exported, else at `snapshot.isolation.mode` — after
//! taking `snapshot.locking.mode`'s table locks, and hands rows out with Debezium's
//! first/last markers.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use ferry_core::Struct;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::config::{SnapshotIsolationMode, SnapshotLockingMode};
use crate::error::{PgError, Result, ServerError};
use crate::event::SnapshotRecord;
use crate::pgoutput::TupleValue;
use crate::replication::quote_ident;
use crate::schema::{TableId, TableMeta, TableSchema};

/// How the snapshot transaction begins: its isolation and its table locks.
#[derive(Clone, Debug)]
pub struct SnapshotTransaction {
    /// `snapshot.isolation.mode` (ignored when a new slot's snapshot is imported).
    pub isolation: SnapshotIsolationMode,
    /// `snapshot.locking.mode`.
    pub locking: SnapshotLockingMode,
    /// `snapshot.lock.timeout.ms`.
    pub lock_timeout: std::time::Duration,
    /// The captured tables, locked with `shared`.
    pub tables: Vec<TableId>,
}

impl SnapshotTransaction {
    /// The statements that open the snapshot transaction, as Debezium runs them: with an
    /// exported snapshot, REPEATABLE READ and `SET TRANSACTION SNAPSHOT` whatever the
    /// isolation mode; else the mode's level. Then, with `shared` locking, the session's
    /// `lock_timeout` and `LOCK TABLE ... IN ACCESS SHARE MODE` for each captured table
    /// (held until the snapshot transaction ends).
    pub fn statements(&self, exported: Option<&str>) -> Vec<String> {
        let mut out = match exported {
            Some(name) => vec![
                "BEGIN ISOLATION LEVEL REPEATABLE READ".to_string(),
                format!("SET TRANSACTION SNAPSHOT '{}'", name.replace('\'', "''")),
            ],
            None => vec![format!("BEGIN {}", self.isolation.transaction_characteristics())],
        };
        if self.locking == SnapshotLockingMode::Shared && !self.tables.is_empty() {
            out.push(format!("SET lock_timeout = {}", self.lock_timeout.as_millis()));
            for t in &self.tables {
                out.push(format!(
                    "LOCK TABLE {}.{} IN ACCESS SHARE MODE",
                    quote_ident(&t.schema),
                    quote_ident(&t.table)
                ));
            }
        }
        out
    }
}

/// A row read by the snapshot.
pub struct SnapshotRow {
    /// Its table.
    pub table: Arc<TableSchema>,
    /// The row.
    pub row: Struct,
    /// Its marker.
    pub marker: SnapshotRecord,
}

/// A table's progress through the snapshot, for the initial snapshot's notifications.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableProgress {
    /// The table's rows are about to be read.
    Started(TableId),
    /// All of the table's rows were read.
    Finished(TableId, u64),
}

/// Reads the snapshot table by table through a cursor.
pub struct SnapshotReader {
    client: Client,
    tables: VecDeque<(TableMeta, Arc<TableSchema>)>,
    current: Option<(TableMeta, Arc<TableSchema>, Vec<Option<usize>>)>,
    buffer: VecDeque<(Arc<TableSchema>, Struct)>,
    pending: Option<(Arc<TableSchema>, Struct, bool)>,
    first_in_table: bool,
    emitted: u64,
    fetch: usize,
    placeholder: String,
    /// Rows read from the current table.
    table_rows: u64,
    /// Tables started and finished since [`SnapshotReader::take_progress`].
    progress: Vec<TableProgress>,
    /// Transaction id of the snapshot transaction.
    pub tx_id: i64,
    /// Which transactions the snapshot sees.
    pub visibility: SnapshotVisibility,
}

/// The transactions a snapshot sees (`pg_current_snapshot()`): those below `xmin`, and
/// those below `xmax` that were not in progress (`xip`). Streaming skips their changes
/// when the snapshot was not the slot's exported one, so rows committed between the slot's
/// position and the snapshot come once (from the snapshot), not twice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotVisibility {
    /// Oldest transaction still running (64-bit, with epoch).
    pub xmin: u64,
    /// First transaction id not yet assigned.
    pub xmax: u64,
    /// Transactions in progress between the two.
    pub xip: HashSet<u64>,
}

impl SnapshotVisibility {
    /// Whether the committed transaction `xid` (32 bits, as pgoutput sends it) is in the snapshot.
    pub fn sees(&self, xid: u32) -> bool {
        // Widen around xmax as PostgreSQL compares xids: within 2^31 either side.
        let diff = xid.wrapping_sub(self.xmax as u32) as i32;
        let full = self.xmax as i64 + i64::from(diff);
        if full < 0 {
            return true;
        }
        let full = full as u64;
        full < self.xmin || (full < self.xmax && !self.xip.contains(&full))
    }
}

impl SnapshotReader {
    /// Opens the snapshot transaction on `client` as `tx` says (importing `snapshot_name`
    /// when given). A table lock not granted within the lock timeout fails with a
    /// [`PgError::Setup`] naming the table.
    pub async fn open(
        client: Client,
        snapshot_name: Option<&str>,
        tx: &SnapshotTransaction,
        tables: Vec<(TableMeta, Arc<TableSchema>)>,
        fetch: usize,
        placeholder: String,
    ) -> Result<SnapshotReader> {
        if snapshot_name.is_some() && tx.isolation != SnapshotIsolationMode::RepeatableRead {
            tracing::info!(
                "the snapshot imports the new slot's exported snapshot, so it runs in REPEATABLE READ (snapshot.isolation.mode applies to snapshots from an existing slot)"
            );
        }
        for sql in tx.statements(snapshot_name) {
            tracing::info!(%sql, "snapshot transaction");
            client.batch_execute(&sql).await.map_err(|e| {
                if ServerError::of(&e) == Some(ServerError::LockNotAvailable) {
                    PgError::Setup(format!(
                        "The snapshot could not take its table lock within snapshot.lock.timeout.ms={} ms ({sql}): {}. Another session holds a conflicting lock (e.g. a running ALTER TABLE or VACUUM FULL); retry later, raise snapshot.lock.timeout.ms or set snapshot.locking.mode=none",
                        tx.lock_timeout.as_millis(),
                        e.as_db_error().map(|d| d.message()).unwrap_or_default()
                    ))
                } else {
                    PgError::sql(format!("starting the snapshot transaction ({sql})"), e)
                }
            })?;
        }
        let tx_id: i64 = client
            .query_one("SELECT txid_current()::bigint", &[])
            .await
            .map(|r| r.get(0))
            .unwrap_or(0);
        let row = client
            .query_one(
                "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text, \
                        coalesce((SELECT string_agg(x::text, ',') FROM pg_snapshot_xip(s) x), '') \
                   FROM pg_current_snapshot() s",
                &[],
            )
            .await
            .map_err(|e| PgError::sql("reading the snapshot's visibility", e))?;
        let num = |t: &str| {
            t.parse::<u64>()
                .map_err(|_| PgError::Protocol(format!("pg_current_snapshot() gave '{t}'")))
        };
        let xip_text: String = row.get(2);
        let visibility = SnapshotVisibility {
            xmin: num(row.get(0))?,
            xmax: num(row.get(1))?,
            xip: xip_text
                .split(',')
                .filter(|t| !t.is_empty())
                .map(num)
                .collect::<Result<_>>()?,
        };
        Ok(SnapshotReader {
            client,
            tables: tables.into(),
            current: None,
            buffer: VecDeque::new(),
            pending: None,
            first_in_table: true,
            emitted: 0,
            fetch,
            placeholder,
            table_rows: 0,
            progress: Vec::new(),
            tx_id,
            visibility,
        })
    }

    async fn fill(&mut self) -> Result<bool> {
        loop {
            if !self.buffer.is_empty() {
                return Ok(true);
            }
            if self.current.is_none() {
                let Some((meta, ts)) = self.tables.pop_front() else {
                    return Ok(false);
                };
                let select = match &ts.snapshot_select {
                    // snapshot.select.statement.overrides: its columns are matched by name.
                    Some(select) => select.clone(),
                    None => format!(
                        "SELECT * FROM {}.{}",
                        quote_ident(&meta.id.schema),
                        quote_ident(&meta.id.table)
                    ),
                };
                let sql = format!("DECLARE ferry_snapshot NO SCROLL CURSOR FOR {select}");
                self.client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| PgError::sql(format!("snapshot of {}", meta.id), e))?;
                let mapping = meta.columns.iter().map(|c| ts.column_index(&c.name)).collect();
                self.progress.push(TableProgress::Started(meta.id.clone()));
                self.table_rows = 0;
                self.current = Some((meta, ts, mapping));
            }
            let (meta, ts, mapping) = self.current.as_ref().expect("current table");
            let msgs = self
                .client
                .simple_query(&format!("FETCH {} FROM ferry_snapshot", self.fetch))
                .await
                .map_err(|e| PgError::sql(format!("snapshot of {}", meta.id), e))?;
            let mut n: u64 = 0;
            let mut values: Vec<TupleValue> = Vec::with_capacity(mapping.len());
            let mut by_name: Option<Vec<Option<usize>>> = None;
            for m in msgs {
                if let SimpleQueryMessage::Row(row) = m {
                    let mapping = if ts.snapshot_select.is_some() {
                        by_name.get_or_insert_with(|| {
                            row.columns().iter().map(|c| ts.column_index(c.name())).collect()
                        })
                    } else {
                        mapping
                    };
                    n += 1;
                    values.clear();
                    for i in 0..row.len() {
                        values.push(match row.get(i) {
                            None => TupleValue::Null,
                            Some(s) => TupleValue::Text(Bytes::copy_from_slice(s.as_bytes())),
                        });
                    }
                    let s = ts
                        .row(mapping.iter().copied().zip(values.iter()), &self.placeholder)
                        .map_err(PgError::Data)?;
                    self.buffer.push_back((ts.clone(), s));
                }
            }
            self.table_rows += n;
            if n == 0 {
                self.client
                    .batch_execute("CLOSE ferry_snapshot")
                    .await
                    .map_err(|e| PgError::sql("closing the snapshot cursor", e))?;
                if let Some((meta, ..)) = self.current.take() {
                    self.progress
                        .push(TableProgress::Finished(meta.id, self.table_rows));
                }
            }
        }
    }

    /// Up to `max` rows; empty when the snapshot is finished.
    pub async fn next_rows(&mut self, max: usize) -> Result<Vec<SnapshotRow>> {
        let mut out = Vec::new();
        while out.len() < max {
            if self.pending.is_none() {
                if !self.fill().await? {
                    break;
                }
                let (t, r) = self.buffer.pop_front().expect("filled");
                self.pending = Some((t, r, true));
            }
            let has_next = self.fill().await?;
            let (table, row, first_in_table) = self.pending.take().expect("pending");
            let next_same_table =
                has_next && self.buffer.front().is_some_and(|(t, _)| Arc::ptr_eq(t, &table));
            // Debezium's precedence: last of the snapshot, first of it, last of a table
            // (so a table's only row is its last), first of a table.
            let marker = if !has_next {
                SnapshotRecord::Last
            } else if self.emitted == 0 {
                SnapshotRecord::First
            } else if !next_same_table {
                SnapshotRecord::LastInDataCollection
            } else if first_in_table {
                SnapshotRecord::FirstInDataCollection
            } else {
                SnapshotRecord::True
            };
            self.emitted += 1;
            self.first_in_table = !next_same_table;
            if has_next {
                let (t, r) = self.buffer.pop_front().expect("filled");
                self.pending = Some((t, r, !next_same_table));
            }
            out.push(SnapshotRow { table, row, marker });
        }
        Ok(out)
    }

    /// The tables started and finished since the last call, in order.
    pub fn take_progress(&mut self) -> Vec<TableProgress> {
        std::mem::take(&mut self.progress)
    }

    /// Ends the snapshot transaction.
    pub async fn finish(self) -> Result<()> {
        self.client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| PgError::sql("ending the snapshot transaction", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snapshot_transaction_begins_as_debezium_begins_it() {
        let t = |schema: &str, table: &str| TableId {
            schema: schema.into(),
            table: table.into(),
        };
        let mut tx = SnapshotTransaction {
            isolation: SnapshotIsolationMode::Serializable,
            locking: SnapshotLockingMode::None,
            lock_timeout: std::time::Duration::from_millis(10_000),
            tables: vec![t("public", "orders"), t("S", "we\"ird")],
        };
        assert_eq!(
            tx.statements(None),
            ["BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE"]
        );
        // A new slot's exported snapshot: REPEATABLE READ whatever the mode.
        assert_eq!(
            tx.statements(Some("00000003-00000002-1")),
            [
                "BEGIN ISOLATION LEVEL REPEATABLE READ",
                "SET TRANSACTION SNAPSHOT '00000003-00000002-1'"
            ]
        );
        tx.isolation = SnapshotIsolationMode::ReadCommitted;
        tx.locking = SnapshotLockingMode::Shared;
        tx.lock_timeout = std::time::Duration::from_millis(2500);
        assert_eq!(
            tx.statements(None),
            [
                "BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY",
                "SET lock_timeout = 2500",
                "LOCK TABLE \"public\".\"orders\" IN ACCESS SHARE MODE",
                "LOCK TABLE \"S\".\"we\"\"ird\" IN ACCESS SHARE MODE",
            ]
        );
        tx.tables.clear();
        assert_eq!(tx.statements(None).len(), 1, "nothing to lock");
    }

    #[test]
    fn visibility_follows_xmin_xmax_and_xip_across_the_epoch() {
        let v = SnapshotVisibility {
            xmin: 100,
            xmax: 110,
            xip: [100, 105].into_iter().collect(),
        };
        assert!(v.sees(99));
        assert!(!v.sees(100), "in progress");
        assert!(v.sees(101));
        assert!(!v.sees(105), "in progress");
        assert!(v.sees(109));
        assert!(!v.sees(110), "began after the snapshot");
        assert!(!v.sees(110 + (1 << 30)), "after xmax");
        // Epoch 1, xmax just past the 32-bit wrap: a 32-bit xid near u32::MAX is from epoch 0.
        let wrapped = SnapshotVisibility {
            xmin: (1 << 32) + 5,
            xmax: (1 << 32) + 10,
            xip: HashSet::new(),
        };
        assert!(wrapped.sees(u32::MAX - 3), "epoch 0, long committed");
        assert!(wrapped.sees(6));
        assert!(!wrapped.sees(10));
        assert!(!wrapped.sees(11));
    }
}
