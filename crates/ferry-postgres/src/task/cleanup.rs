//! The outbox cleanup loop (`outbox.cleanup.*`): its own session, a horizon taken every
//! interval, and batches of deletes once the safe LSN (the task's durable offsets)
//! covers a horizon. The rules are in [`crate::cleanup`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ferry_core::CancellationToken;
use tokio::sync::watch;
use tokio_postgres::Client;
use tracing::{debug, info, warn, Instrument};

use super::connect::connect_meta;
use crate::cleanup::{delete_sql, tag_sql, Horizon, Horizons};
use crate::config::{OutboxCleanup, PostgresConfig};
use crate::error::{PgError, Result};
use crate::lsn::Lsn;
use crate::replication::quote_ident;

/// Batches one round deletes at most before it lets the next horizon be taken.
const MAX_BATCHES_PER_ROUND: usize = 100;

/// What the cleanup did so far (for tests, logs and metrics).
#[derive(Debug, Default)]
pub struct CleanupStats {
    /// Rows deleted.
    pub deleted: AtomicU64,
    /// Cleanup transactions committed.
    pub batches: AtomicU64,
    /// Rounds that failed (each retried at the next interval).
    pub failures: AtomicU64,
}

/// The running cleanup of one task; stops when dropped.
pub(super) struct CleanupHandle {
    safe: watch::Sender<Lsn>,
    streaming: Arc<AtomicBool>,
    stats: Arc<CleanupStats>,
    _stop: tokio_util::sync::DropGuard,
}

impl CleanupHandle {
    /// Checks the table (it exists and has a primary key) and starts the loop.
    pub(super) async fn start(
        cfg: &Arc<PostgresConfig>,
        meta: &Client,
        span: tracing::Span,
    ) -> Result<CleanupHandle> {
        let oc = cfg.outbox_cleanup.clone().expect("outbox cleanup configured");
        let pk = primary_key(meta, &oc).await?;
        let sql = delete_sql(&oc.schema, &oc.table, &pk);
        info!(table = %format!("{}.{}", oc.schema, oc.table), primary_key = ?pk, "outbox cleanup enabled");
        let (safe, safe_rx) = watch::channel(Lsn::ZERO);
        let streaming = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(CleanupStats::default());
        let cancel = CancellationToken::new();
        let worker = Worker {
            cfg: cfg.clone(),
            oc,
            sql,
            safe: safe_rx,
            streaming: streaming.clone(),
            stats: stats.clone(),
            client: None,
            horizons: Horizons::default(),
        };
        tokio::spawn(worker.run(cancel.clone()).instrument(span));
        Ok(CleanupHandle {
            safe,
            streaming,
            stats,
            _stop: cancel.drop_guard(),
        })
    }

    /// The durable LSN moved (the task's `commit`).
    pub(super) fn durable(&self, lsn: Lsn) {
        self.safe.send_if_modified(|cur| {
            let moved = lsn > *cur;
            if moved {
                *cur = lsn;
            }
            moved
        });
    }

    /// The task streams (the snapshot, if any, is over): horizons may be taken.
    pub(super) fn streaming(&self) {
        self.streaming.store(true, Ordering::Release);
    }

    /// Counters.
    pub(super) fn stats(&self) -> Arc<CleanupStats> {
        self.stats.clone()
    }
}

/// The primary key columns of the outbox table, in key order; an error naming
/// `outbox.cleanup.table` when the table is missing or has none.
async fn primary_key(meta: &Client, oc: &OutboxCleanup) -> Result<Vec<String>> {
    let name = format!("{}.{}", quote_ident(&oc.schema), quote_ident(&oc.table));
    let row = meta
        .query_one("SELECT to_regclass($1)::oid", &[&name])
        .await
        .map_err(|e| PgError::sql("looking up outbox.cleanup.table", e))?;
    let Some(oid) = row.get::<_, Option<u32>>(0) else {
        return Err(PgError::Setup(format!(
            "outbox.cleanup.table: the table {}.{} does not exist",
            oc.schema, oc.table
        )));
    };
    let rows = meta
        .query(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
             WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
            &[&oid],
        )
        .await
        .map_err(|e| PgError::sql("reading the primary key of outbox.cleanup.table", e))?;
    if rows.is_empty() {
        return Err(PgError::Setup(format!(
            "outbox.cleanup.table: the table {}.{} has no primary key; the cleanup deletes by primary key",
            oc.schema, oc.table
        )));
    }
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

struct Worker {
    cfg: Arc<PostgresConfig>,
    oc: OutboxCleanup,
    sql: String,
    safe: watch::Receiver<Lsn>,
    streaming: Arc<AtomicBool>,
    stats: Arc<CleanupStats>,
    client: Option<Client>,
    horizons: Horizons,
}

impl Worker {
    async fn run(mut self, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.oc.interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tick.tick() => {}
            }
            if !self.streaming.load(Ordering::Acquire) {
                continue;
            }
            let round = tokio::select! {
                _ = cancel.cancelled() => break,
                r = self.round() => r,
            };
            if let Err(e) = round {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                warn!(error = %e, "outbox cleanup round failed; retrying at the next interval");
                if e.is_transient() {
                    self.client = None;
                }
            }
        }
        debug!("outbox cleanup stopped");
    }

    async fn client(&mut self) -> Result<&Client> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(connect_meta(&self.cfg).await?);
        }
        Ok(self.client.as_ref().expect("connected"))
    }

    /// Takes a horizon, then deletes what the newest usable one allows.
    async fn round(&mut self) -> Result<()> {
        let h = take_horizon(self.client().await?).await?;
        self.horizons.push(h);
        let safe = *self.safe.borrow();
        let Some(usable) = self.horizons.take_usable(safe, self.oc.delay, Instant::now()) else {
            return Ok(());
        };
        let xid = usable.xid32();
        let batch = self.oc.batch_size as i64;
        let mut total = 0u64;
        for _ in 0..MAX_BATCHES_PER_ROUND {
            let n = self.delete_batch(xid, batch).await?;
            total += n;
            if n < batch as u64 {
                break;
            }
        }
        if total > 0 {
            debug!(deleted = total, horizon_xmin = usable.xmin, horizon_lsn = %usable.lsn, %safe, "outbox cleanup");
        }
        Ok(())
    }

    /// One short transaction: the housekeeping tag, then at most `batch` deletes. A batch
    /// that deletes nothing is rolled back, so an idle round writes no WAL.
    async fn delete_batch(&mut self, xid: i64, batch: i64) -> Result<u64> {
        let sql = self.sql.clone();
        let stats = self.stats.clone();
        let client = self.client().await?;
        let err = |what: &str| {
            let what = what.to_string();
            move |e| PgError::sql(format!("outbox cleanup: {what}"), e)
        };
        client
            .batch_execute("BEGIN; SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '60s'")
            .await
            .map_err(err("begin"))?;
        let work = async {
            client
                .execute(&tag_sql(), &[])
                .await
                .map_err(err("pg_logical_emit_message"))?;
            client.execute(&sql, &[&xid, &batch]).await.map_err(err("delete"))
        };
        match work.await {
            Ok(0) => {
                client.batch_execute("ROLLBACK").await.map_err(err("rollback"))?;
                Ok(0)
            }
            Ok(n) => {
                client.batch_execute("COMMIT").await.map_err(err("commit"))?;
                stats.deleted.fetch_add(n, Ordering::Relaxed);
                stats.batches.fetch_add(1, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Err(e)
            }
        }
    }
}

/// The oldest running transaction id, then the WAL insert position (in that order: see
/// [`crate::cleanup`]).
async fn take_horizon(client: &Client) -> Result<Horizon> {
    let xmin: String = client
        .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[])
        .await
        .map_err(|e| PgError::sql("outbox cleanup: reading the oldest running transaction", e))?
        .get(0);
    let lsn: String = client
        .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
        .await
        .map_err(|e| PgError::sql("outbox cleanup: reading the WAL insert position", e))?
        .get(0);
    let xmin = xmin
        .parse::<u64>()
        .map_err(|_| PgError::Data(format!("outbox cleanup: unexpected xid8 '{xmin}'")))?;
    let lsn =
        Lsn::parse(&lsn).ok_or_else(|| PgError::Data(format!("outbox cleanup: unexpected LSN '{lsn}'")))?;
    Ok(Horizon {
        xmin,
        lsn,
        taken: Instant::now(),
    })
}
