//! The built-in outbox cleanup's decisions, without I/O (`outbox.cleanup.*`; the
//! loop that runs them is `task::cleanup`, the reasoning is docs/outbox-cleanup.md).
//!
//! The cleanup deletes a row only when the transaction that wrote it ended at or
//! before the *safe LSN*: the highest `lsn_commit`/`lsn_proc` of an offset the runtime
//! reported durable, the same point the replication slot is confirmed to. A row does not
//! say where its transaction ended, so the cleanup takes *horizons*: the oldest running
//! transaction id `X` (`pg_current_snapshot()`'s xmin), then the WAL insert position `L`.
//! Every transaction with an id below `X` had finished, its commit record written, when
//! the snapshot was taken, so it ended at or before `L`; once `L` is at or below the safe
//! LSN, every row whose `xmin` precedes `X` was published and its offset stored. The
//! rule needs no memory of what was streamed, so a restart leaves nothing behind.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::lsn::Lsn;
use crate::replication::quote_ident;

/// The prefix of the transactional logical decoding message each cleanup transaction
/// starts with; the decoder drops such transactions whole, so Ferry's own deletes never
/// become events.
pub const HOUSEKEEPING_PREFIX: &str = "__ferry.outbox.cleanup";

/// How many horizons wait at most; when full, the oldest is dropped (a newer one
/// deletes at least as much once usable).
const MAX_HORIZONS: usize = 256;

/// A point taken from the server: transactions with ids below `xmin` ended at or before `lsn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Horizon {
    /// `pg_snapshot_xmin(pg_current_snapshot())`, a 64-bit transaction id.
    pub xmin: u64,
    /// `pg_current_wal_insert_lsn()`, read after the snapshot.
    pub lsn: Lsn,
    /// When it was taken (for `outbox.cleanup.delay.ms`).
    pub taken: Instant,
}

impl Horizon {
    /// The 32-bit transaction id a row's `xmin` is compared with.
    pub fn xid32(&self) -> i64 {
        (self.xmin & 0xFFFF_FFFF) as i64
    }
}

/// The horizons taken and not yet used, oldest first.
#[derive(Debug, Default)]
pub struct Horizons {
    queue: VecDeque<Horizon>,
}

impl Horizons {
    /// Remembers a horizon (they are taken in order, so `lsn` and `xmin` never decrease).
    pub fn push(&mut self, h: Horizon) {
        if self.queue.len() >= MAX_HORIZONS {
            self.queue.pop_front();
        }
        self.queue.push_back(h);
    }

    /// How many wait.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when none waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The newest horizon that is covered by `safe` and at least `delay` old at `now`;
    /// it and every older one are removed.
    pub fn take_usable(&mut self, safe: Lsn, delay: Duration, now: Instant) -> Option<Horizon> {
        let mut usable = None;
        while let Some(h) = self.queue.front() {
            if h.lsn <= safe && now.saturating_duration_since(h.taken) >= delay {
                usable = self.queue.pop_front();
            } else {
                break;
            }
        }
        usable
    }
}

/// Whether a row written by 32-bit transaction id `row_xmin` precedes `horizon_xid32`
/// (PostgreSQL's `TransactionIdPrecedes`: modulo 2^32, within 2^31). Ids below 3 are
/// the bootstrap and frozen ids, older than any. The SQL of [`delete_sql`] says the same.
pub fn xid_precedes(row_xmin: i64, horizon_xid32: i64) -> bool {
    if row_xmin < 3 {
        return true;
    }
    (row_xmin - horizon_xid32).rem_euclid(1 << 32) >= (1 << 31)
}

/// The SQL condition "the row's xmin precedes `$1`" for table alias `a`.
fn precedes_sql(a: &str) -> String {
    format!(
        "({a}.xmin::text::bigint < 3 OR ((({a}.xmin::text::bigint - $1) % 4294967296 + 4294967296) % 4294967296) >= 2147483648)"
    )
}

/// One batch's statement: deletes at most `$2` rows whose xmin precedes `$1`, chosen by
/// primary key, skipping rows other sessions hold locked. The condition is checked again
/// on the rows deleted, so a row changed meanwhile (a newer xmin) stays.
pub fn delete_sql(schema: &str, table: &str, pk: &[String]) -> String {
    let name = format!("{}.{}", quote_ident(schema), quote_ident(table));
    let cols = |a: &str| {
        pk.iter()
            .map(|c| format!("{a}.{}", quote_ident(c)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "DELETE FROM {name} AS t WHERE ({}) IN (SELECT {} FROM {name} AS o WHERE {} LIMIT $2 FOR UPDATE SKIP LOCKED) AND {}",
        cols("t"),
        cols("o"),
        precedes_sql("o"),
        precedes_sql("t"),
    )
}

/// The statement every cleanup transaction starts with (see [`HOUSEKEEPING_PREFIX`]).
pub fn tag_sql() -> String {
    format!("SELECT pg_logical_emit_message(true, '{HOUSEKEEPING_PREFIX}', '')")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(xmin: u64, lsn: u64, taken: Instant) -> Horizon {
        Horizon {
            xmin,
            lsn: Lsn(lsn),
            taken,
        }
    }

    #[test]
    fn only_horizons_covered_by_the_safe_lsn_and_old_enough_are_used() {
        let t0 = Instant::now();
        let mut q = Horizons::default();
        q.push(h(100, 1000, t0));
        q.push(h(110, 2000, t0 + Duration::from_secs(1)));
        q.push(h(120, 3000, t0 + Duration::from_secs(2)));
        assert_eq!(q.take_usable(Lsn(999), Duration::ZERO, t0), None);
        assert_eq!(q.len(), 3);
        // Covered up to 2000, but the second is not old enough.
        let now = t0 + Duration::from_millis(1500);
        assert_eq!(
            q.take_usable(Lsn(2500), Duration::from_secs(1), now)
                .map(|h| h.xmin),
            Some(100)
        );
        assert_eq!(q.len(), 2);
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            q.take_usable(Lsn(5000), Duration::from_secs(1), later)
                .map(|h| h.xmin),
            Some(120)
        );
        assert!(q.is_empty());
    }

    #[test]
    fn the_queue_is_bounded_by_dropping_the_oldest() {
        let t0 = Instant::now();
        let mut q = Horizons::default();
        for i in 0..(MAX_HORIZONS as u64 + 10) {
            q.push(h(i, i * 10, t0));
        }
        assert_eq!(q.len(), MAX_HORIZONS);
        let first = q.take_usable(Lsn(99), Duration::ZERO, t0);
        assert_eq!(first, None, "the horizons below lsn 100 were dropped");
    }

    #[test]
    fn xids_compare_modulo_two_to_the_32() {
        assert!(xid_precedes(99, 100));
        assert!(!xid_precedes(100, 100));
        assert!(!xid_precedes(101, 100));
        // Around the wrap: 4294967290 precedes 5, and 5 does not precede 4294967290.
        assert!(xid_precedes(4_294_967_290, 5));
        assert!(!xid_precedes(5, 4_294_967_290));
        assert!(xid_precedes(2, 5_000), "frozen");
        let hz = h((7u64 << 32) | 42, 0, Instant::now());
        assert_eq!(hz.xid32(), 42, "the epoch is dropped");
    }

    #[test]
    fn the_delete_is_by_primary_key_with_the_condition_checked_twice() {
        let sql = delete_sql("public", "Outbox", &["id".into(), "part".into()]);
        assert!(
            sql.starts_with(
                r#"DELETE FROM "public"."Outbox" AS t WHERE (t."id", t."part") IN (SELECT o."id", o."part" FROM "public"."Outbox" AS o WHERE"#
            ),
            "{sql}"
        );
        assert!(sql.contains("LIMIT $2 FOR UPDATE SKIP LOCKED"), "{sql}");
        assert_eq!(sql.matches("xmin::text::bigint - $1").count(), 2, "{sql}");
    }
}
