//! Read-only incremental snapshots (`read.only=true`): a chunk's window is bounded by the
//! server's transaction snapshots (`pg_current_snapshot()`) taken before and after the
//! chunk is read, instead of watermark rows written to the signal table, as Debezium's
//! `PostgresReadOnlyIncrementalSnapshotChangeEventSource` does (PostgreSQL 13 or later).
//!
//! Streamed changes are compared by transaction id: a change of a transaction at or
//! above the low watermark's `xmin` opens the window (its key leaves the buffered
//! chunk); one above both watermarks' `xmax` closes it (the chunk is sent before that
//! change). A commit (or a poll with nothing new) of a transaction the high watermark
//! saw as finished sends the chunk too and reads the next one.

use tokio_postgres::Client;

use crate::error::{PgError, Result};

/// One `pg_current_snapshot()`: transaction ids with their epoch (xid8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PgSnapshot {
    /// Oldest transaction still running.
    pub xmin: u64,
    /// First transaction id not yet assigned.
    pub xmax: u64,
    /// Transactions running between the two.
    pub xip: Vec<u64>,
}

impl PgSnapshot {
    /// The server's current snapshot.
    pub async fn current(client: &Client) -> Result<PgSnapshot> {
        let row = client
            .query_one(
                "SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text, \
                        coalesce((SELECT string_agg(x::text, ',' ORDER BY x) FROM pg_snapshot_xip(s) x), '') \
                   FROM pg_current_snapshot() s",
                &[],
            )
            .await
            .map_err(|e| {
                PgError::sql(
                    "reading pg_current_snapshot() for a read-only incremental snapshot",
                    e,
                )
            })?;
        let num = |t: &str| {
            t.parse::<u64>()
                .map_err(|_| PgError::Protocol(format!("pg_current_snapshot() gave '{t}'")))
        };
        let xip: String = row.get(2);
        Ok(PgSnapshot {
            xmin: num(row.get(0))?,
            xmax: num(row.get(1))?,
            xip: xip
                .split(',')
                .filter(|t| !t.is_empty())
                .map(num)
                .collect::<Result<_>>()?,
        })
    }
}

/// The 64-bit id of `xid`, a 32-bit id as pgoutput and `txId` carry it, taken in the
/// epoch nearest `reference` (as PostgreSQL compares xids: within 2^31 either side).
pub fn widen(xid: i64, reference: u64) -> u64 {
    let diff = (xid as u32).wrapping_sub(reference as u32) as i32;
    (reference as i64 + i64::from(diff)).max(0) as u64
}

/// The window of a read-only incremental snapshot, as Debezium's
/// `PostgresReadOnlyIncrementalSnapshotContext` keeps it.
#[derive(Clone, Debug, Default)]
pub struct ReadOnlyWindow {
    low: Option<PgSnapshot>,
    high: Option<PgSnapshot>,
    previous: (Option<PgSnapshot>, Option<PgSnapshot>),
    open: bool,
}

impl ReadOnlyWindow {
    /// The snapshot taken before the chunk was read.
    pub fn set_low(&mut self, s: PgSnapshot) {
        self.low = Some(s);
    }

    /// The snapshot taken after the chunk was read.
    pub fn set_high(&mut self, s: PgSnapshot) {
        self.high = Some(s);
    }

    /// Whether streamed changes are compared with the buffered chunk.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// A change of transaction `tx` was streamed: it opens the window when it may
    /// postdate the chunk (`tx >= low.xmin`), and closes an open window when its
    /// transaction began after both watermarks (`tx > max(high.xmax, low.xmax)`).
    pub fn update(&mut self, tx: i64) {
        if let (false, Some(low)) = (self.open, &self.low) {
            if widen(tx, low.xmax) >= low.xmin {
                self.open = true;
            }
        }
        if let (true, Some(low), Some(high)) = (self.open, &self.low, &self.high) {
            if widen(tx, high.xmax) > high.xmax.max(low.xmax) {
                self.close();
            }
        }
    }

    /// Closes the window; the watermarks become the previous ones.
    pub fn close(&mut self) {
        self.open = false;
        self.previous = (self.low.take(), self.high.take());
    }

    /// The commit of `tx` is that of the transaction the high watermark would have
    /// started next.
    pub fn max_in_progress_committed(&self, tx: i64) -> bool {
        self.high.as_ref().is_some_and(|h| widen(tx, h.xmax) == h.xmax)
    }

    /// `tx` had ended when the high watermark was taken (`tx <= high.xmin`).
    pub fn transaction_visible(&self, tx: i64) -> bool {
        self.high.as_ref().is_some_and(|h| widen(tx, h.xmax) <= h.xmin)
    }

    /// The chunk read after [`ReadOnlyWindow::close`] took other watermarks.
    pub fn watermarks_changed(&self) -> bool {
        self.previous != (self.low.clone(), self.high.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(xmin: u64, xmax: u64) -> PgSnapshot {
        PgSnapshot {
            xmin,
            xmax,
            xip: Vec::new(),
        }
    }

    #[test]
    fn transaction_ids_compare_across_the_32_bit_wrap() {
        let epoch1 = 1u64 << 32;
        assert_eq!(widen(5, epoch1 + 10), epoch1 + 5);
        assert_eq!(widen(u32::MAX as i64, epoch1 + 10), epoch1 - 1);
        assert_eq!(widen(700, 750), 700);
        assert_eq!(widen(3, 1), 3);
    }

    #[test]
    fn the_window_opens_closes_and_releases_as_debezium_s() {
        let mut w = ReadOnlyWindow::default();
        w.update(500);
        assert!(!w.is_open(), "no watermark yet");
        w.set_low(snap(100, 105));
        w.set_high(snap(102, 108));
        w.update(99);
        assert!(!w.is_open(), "older than the low watermark");
        w.update(100);
        assert!(w.is_open());
        w.update(108);
        assert!(w.is_open(), "not past both xmax");
        assert!(w.max_in_progress_committed(108));
        assert!(w.transaction_visible(102) && !w.transaction_visible(103));
        w.update(109);
        assert!(!w.is_open(), "a transaction begun after both watermarks");
        assert!(!w.transaction_visible(1), "no high watermark after closing");
        w.set_low(snap(100, 105));
        w.set_high(snap(102, 108));
        assert!(!w.watermarks_changed());
        w.set_high(snap(103, 108));
        assert!(w.watermarks_changed());
    }
}
