//! Transactions: BEGIN/COMMIT, their metadata records and counters, logical
//! decoding messages.

use std::sync::Arc;

use ferry_core::Record;
use tracing::debug;

use super::{Decoder, Tx};
use crate::event::{self, TransactionStatus};
use crate::lsn::Lsn;

/// The data collection logical decoding messages count under in transaction metadata.
pub(super) const LOGICAL_DECODING_MESSAGE: &str = "LOGICAL_DECODING_MESSAGE";

impl Decoder {
    /// A transaction starts.
    pub(super) fn begin(&mut self, xid: u32, commit_time_us: i64) {
        self.resume.begin(xid as i64);
        self.tx = Some(Tx { xid, commit_time_us });
        self.skip_tx = self.snapshot_visibility.as_ref().is_some_and(|v| v.sees(xid));
        if self.skip_tx {
            debug!(xid, "skipping a transaction the snapshot already contains");
        }
        self.origin = None;
        self.before_tx = (self.offset.tx_id, self.offset.ts_usec);
        self.offset.tx_id = Some(xid as i64);
        self.offset.ts_usec = Some(commit_time_us);
        if self.topics.transaction.is_some() && !self.skip_tx {
            let id = xid.to_string();
            // A transaction restored from the offsets (restart or reconnect in its
            // middle) keeps its counters and gets no second BEGIN, as in Debezium.
            if self.offset.transaction.id.as_deref() != Some(id.as_str()) {
                self.offset.transaction.begin(id);
                self.pending_begin = true;
            }
        }
    }

    /// The transaction in progress yields no records, not even transaction metadata:
    /// Ferry's outbox cleanup (it starts with a
    /// [`HOUSEKEEPING_PREFIX`](crate::cleanup::HOUSEKEEPING_PREFIX) message), or one
    /// replicated from another origin under `slot.stream.params=origin=none`.
    pub(super) fn skip_transaction(&mut self, why: &'static str) {
        if let Some(tx) = &self.tx {
            debug!(xid = tx.xid, "skipping {why}");
        }
        self.skip_tx = true;
        if self.pending_begin {
            // Its BEGIN was not emitted yet: nothing of it is.
            self.pending_begin = false;
            self.offset.transaction.end();
        }
    }

    /// The transaction committed; the offset moves past it.
    pub(super) fn commit(
        &mut self,
        commit_lsn: Lsn,
        end_lsn: Lsn,
        commit_time_us: i64,
        out: &mut Vec<Record>,
    ) {
        if self.filtered_tx {
            // Dropped by origin=none: as if the server had never sent it.
            (self.offset.tx_id, self.offset.ts_usec) = self.before_tx;
            self.tx = None;
            self.skip_tx = false;
            self.filtered_tx = false;
            self.resume.commit();
            return;
        }
        if self.pending_begin {
            self.emit_begin(commit_lsn, out);
        }
        self.tx = None;
        self.skip_tx = false;
        self.offset.lsn = Some(end_lsn);
        self.offset.lsn_proc = Some(end_lsn);
        self.offset.lsn_commit = Some(end_lsn);
        self.offset.message_type = Some("COMMIT");
        self.offset.lsn_events_processed = 0;
        self.resume.commit();
        self.emit_end(end_lsn, commit_time_us, out);
    }

    /// The BEGIN record of the transaction in progress, at `lsn` (its first message).
    pub(super) fn emit_begin(&mut self, lsn: Lsn, out: &mut Vec<Record>) {
        self.pending_begin = false;
        let (Some(topic), Some(tx)) = (&self.topics.transaction, &self.tx) else {
            return;
        };
        self.offset.lsn = Some(lsn);
        self.offset.lsn_proc = Some(lsn);
        self.offset.message_type = Some("BEGIN");
        let id = format!(
            "{}:{}",
            self.offset.transaction.id.as_deref().unwrap_or_default(),
            lsn.as_i64()
        );
        let ts_ms = tx.commit_time_us.div_euclid(1000);
        let off = Arc::new(self.offset.to_map());
        self.last_emitted = Some(self.offset.clone());
        out.push(event::transaction_record(
            topic,
            id,
            TransactionStatus::Begin,
            ts_ms,
            self.partition.clone(),
            off,
        ));
    }

    /// The END record of the transaction that just committed at `end_lsn`.
    fn emit_end(&mut self, end_lsn: Lsn, commit_time_us: i64, out: &mut Vec<Record>) {
        let Some(topic) = &self.topics.transaction else {
            return;
        };
        if let Some(xid) = self.offset.transaction.id.as_deref() {
            let id = format!("{xid}:{}", end_lsn.as_i64());
            let per = self.offset.transaction.per_collection_in_java_order();
            let off = Arc::new(self.offset.to_map());
            out.push(event::transaction_record(
                topic,
                id,
                TransactionStatus::End(&per),
                commit_time_us.div_euclid(1000),
                self.partition.clone(),
                off,
            ));
            self.last_emitted = Some(self.offset.clone());
        }
        self.offset.transaction.end();
    }

    /// An `m` event for a logical decoding message, unless its prefix is filtered out. A
    /// message outside any transaction is complete on its own: the offset commits at it,
    /// as Debezium's does.
    pub(super) fn logical_message(
        &mut self,
        transactional: bool,
        lsn: Lsn,
        prefix: String,
        content: bytes::Bytes,
        out: &mut Vec<Record>,
    ) {
        if !self.cfg.filters.message_included(&prefix) {
            return;
        }
        if !transactional {
            self.offset.tx_id = None;
        }
        if !self.advance(lsn, "MESSAGE") {
            return;
        }
        if !transactional {
            self.offset.lsn_commit = Some(lsn);
            self.offset.lsn_events_processed = 0;
        }
        let (ts_us, tx_id) = match (&self.tx, transactional) {
            (Some(t), true) => (t.commit_time_us, Some(t.xid as i64)),
            // Debezium keeps the last commit time for messages outside transactions.
            _ => (self.offset.ts_usec.unwrap_or_else(self.now_us), None),
        };
        let source = self.source_at("", "", lsn, ts_us, tx_id);
        let transaction = match (&self.topics.transaction, transactional) {
            (Some(_), true) if self.offset.transaction.in_progress() => {
                Some(self.count_in_transaction(LOGICAL_DECODING_MESSAGE, lsn))
            }
            _ => None,
        };
        let off = Arc::new(self.offset.to_map());
        self.last_emitted = Some(self.offset.clone());
        out.push(event::logical_message(
            &self.topics.message,
            &self.topics.message_schema,
            prefix,
            crate::types::binary_value(self.cfg.binary_mode, content),
            source,
            transaction,
            self.partition.clone(),
            off,
        ));
    }

    /// Counts one event of `collection` at `lsn` in the transaction in progress; its
    /// `transaction` block (`id` is `xid:lsn`, as Debezium's PostgresTransactionMonitor).
    pub(super) fn count_in_transaction(&mut self, collection: &str, lsn: Lsn) -> ferry_core::Struct {
        let order = self.offset.transaction.event(collection);
        event::transaction_block(
            format!(
                "{}:{}",
                self.offset.transaction.id.as_deref().unwrap_or_default(),
                lsn.as_i64()
            ),
            self.offset.transaction.total,
            order,
        )
    }
}
