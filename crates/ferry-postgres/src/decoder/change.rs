//! Row changes and truncates: from pgoutput messages to change events, with the
//! offset each record carries.

use std::sync::Arc;

use ferry_core::{OffsetMap, Position, Record, Value};
use tracing::debug;

use super::Decoder;
use crate::error::{PgError, Result};
use crate::event::{self, Change, SnapshotRecord, SourceInfo};
use crate::lsn::Lsn;
use crate::offset;
use crate::pgoutput::{Message, TupleValue};
use crate::schema::TableSchema;

/// The op code of a row change and the offset's `messageType` for it.
fn op_of(msg: &Message) -> Option<(u32, &'static str, &'static str)> {
    match msg {
        Message::Insert { relation, .. } => Some((*relation, "c", "INSERT")),
        Message::Update { relation, .. } => Some((*relation, "u", "UPDATE")),
        Message::Delete { relation, .. } => Some((*relation, "d", "DELETE")),
        _ => None,
    }
}

impl Decoder {
    /// The position the next event at `lsn` gets among the events at that LSN (1-based).
    fn next_nth(&self, lsn: Lsn) -> i64 {
        if self.same_lsn.0 == lsn {
            self.same_lsn.1 + 1
        } else {
            1
        }
    }

    /// Whether an event of op `op` at `lsn`, the `nth` there, will be dropped before its
    /// table is needed (emitted before a restart, or an operation skipped by config).
    fn dropped(&self, lsn: Lsn, nth: i64, op: char) -> bool {
        self.resume.skip(lsn, nth) || self.cfg.skipped_operations.contains(&op)
    }

    /// The first table `msg` will need whose schema the decoder lacks, without changing
    /// any state.
    pub(super) fn missing_table(&self, lsn: Lsn, msg: &Message) -> Option<u32> {
        if self.skip_tx {
            return None;
        }
        let unknown = |oid: &u32| !self.tables.contains_key(oid);
        if let Message::Truncate { relations, .. } = msg {
            let first = self.next_nth(lsn);
            return relations
                .iter()
                .zip(first..)
                .find(|(oid, nth)| !self.dropped(lsn, *nth, 't') && unknown(oid))
                .map(|(oid, _)| *oid);
        }
        let (relation, op, _) = op_of(msg)?;
        let op = op.chars().next().unwrap_or('c');
        (!self.dropped(lsn, self.next_nth(lsn), op) && unknown(&relation)).then_some(relation)
    }

    /// One decoded pgoutput message (other than Begin/Commit) at `lsn`.
    pub(super) fn process_message(&mut self, lsn: Lsn, msg: Message, out: &mut Vec<Record>) -> Result<()> {
        let (relation, op, old, new) = match msg {
            Message::Relation(rel) => {
                let changed = self
                    .relations
                    .get(&rel.id)
                    .map(|(r, _)| r != &rel)
                    .unwrap_or(true);
                if changed {
                    // The table's shape may have changed: ask for its metadata on next use.
                    self.tables.remove(&rel.id);
                }
                let map = match self.tables.get(&rel.id) {
                    Some(Some(t)) => t.relation_mapping(&rel),
                    _ => Vec::new(),
                };
                self.relations.insert(rel.id, (rel, map));
                return Ok(());
            }
            Message::Origin { lsn, name } => {
                if self.cfg.stream_origin_none {
                    // pgoutput's origin=none, applied here (slot.stream.params).
                    if !self.skip_tx {
                        self.skip_transaction("a transaction replicated from another origin (origin=none)");
                    }
                    self.filtered_tx = true;
                }
                self.origin = Some((name, lsn));
                return Ok(());
            }
            _ if self.skip_tx => return Ok(()),
            Message::Insert { relation, new } => (relation, "c", None, Some(new)),
            Message::Update { relation, old, new } => (relation, "u", old.map(|o| o.1), Some(new)),
            Message::Delete { relation, old, .. } => (relation, "d", Some(old), None),
            Message::Truncate { relations, .. } => {
                for relation in relations {
                    self.truncate(lsn, relation, out)?;
                }
                return Ok(());
            }
            Message::Type { .. } | Message::Message { .. } => return Ok(()),
            Message::Begin { .. } | Message::Commit { .. } => return Ok(()),
        };
        let message_type = match op {
            "c" => "INSERT",
            "u" => "UPDATE",
            _ => "DELETE",
        };
        let before_event = self.offset.event_position();
        if !self.advance(lsn, message_type) {
            return Ok(());
        }
        let op_char = op.chars().next().unwrap_or('c');
        if self.cfg.skipped_operations.contains(&op_char) {
            return Ok(());
        }
        let Some(table) = self.known_table(relation)? else {
            return Ok(());
        };
        let Some((_, mapping)) = self.relations.get(&relation) else {
            return Err(PgError::Protocol(format!(
                "change for relation {relation} before its Relation message"
            )));
        };
        let placeholder = &self.cfg.unavailable_value_placeholder;
        let build = |t: &Vec<TupleValue>| {
            table
                .row(mapping.iter().copied().zip(t.iter()), placeholder)
                .map_err(PgError::Data)
        };
        let before = old.as_ref().map(build).transpose()?;
        // An unchanged TOASTed value missing from the new row is taken from the old row when the
        // old row carries it (REPLICA IDENTITY FULL), as Debezium does (DBZ-1258).
        let new = match (&old, new) {
            (Some(old), Some(mut new)) if new.iter().any(|v| matches!(v, TupleValue::UnchangedToast)) => {
                for (n, o) in new.iter_mut().zip(old.iter()) {
                    if matches!(n, TupleValue::UnchangedToast)
                        && matches!(o, TupleValue::Text(_) | TupleValue::Binary(_))
                    {
                        *n = o.clone();
                    }
                }
                Some(new)
            }
            (_, new) => new,
        };
        let after = new.as_ref().map(build).transpose()?;
        let source = self.source_struct(&table, lsn);
        let off = Arc::new(self.offset.to_map());
        let start = out.len();
        Change {
            table: &table,
            op,
            before,
            after,
            source,
            partition: self.partition.clone(),
            offset: off,
            context: self.context.as_ref(),
        }
        .into_records(self.cfg.tombstones_on_delete, out);
        self.finish_event(&mut out[start..], &table, lsn, before_event);
        Ok(())
    }

    /// The schema of a table [`Decoder::missing_table`] made sure is known.
    fn known_table(&self, oid: u32) -> Result<Option<Arc<TableSchema>>> {
        self.tables
            .get(&oid)
            .cloned()
            .ok_or_else(|| PgError::Protocol(format!("no schema for relation {oid}")))
    }

    /// One truncate event (`op: t`) per truncated captured table, unless `skipped.operations` has `t`.
    fn truncate(&mut self, lsn: Lsn, relation: u32, out: &mut Vec<Record>) -> Result<()> {
        let before_event = self.offset.event_position();
        if !self.advance(lsn, "TRUNCATE") || self.cfg.skipped_operations.contains(&'t') {
            return Ok(());
        }
        let Some(table) = self.known_table(relation)? else {
            return Ok(());
        };
        let source = self.source_struct(&table, lsn);
        let off = Arc::new(self.offset.to_map());
        let start = out.len();
        out.push(event::truncate(
            &table,
            source,
            self.partition.clone(),
            off,
            self.context.as_ref(),
        ));
        self.finish_event(&mut out[start..], &table, lsn, before_event);
        Ok(())
    }

    /// Completes the records of one event (`recs`, already built with the offset after
    /// the event). With transaction metadata each change event gets its `transaction`
    /// block and the offset counts it. When an event yields several records (a delete
    /// and its tombstone, the two halves of a key change), all but the last carry the
    /// offset from before the event: a crash between them re-emits the whole event
    /// rather than skipping its rest.
    fn finish_event(
        &mut self,
        recs: &mut [Record],
        table: &TableSchema,
        lsn: Lsn,
        before_event: offset::EventPosition,
    ) {
        let n = recs.len();
        if n > 1 {
            let mut prev = self.offset.clone();
            prev.restore_event_position(before_event);
            let prev = Arc::new(prev.to_map());
            for r in &mut recs[..n - 1] {
                set_offset(r, prev.clone());
            }
        }
        if self.topics.transaction.is_some() && self.offset.transaction.in_progress() {
            let collection = format!("{}.{}", table.id.schema, table.id.table);
            for r in recs.iter_mut() {
                if let Value::Struct(envelope) = &mut r.value {
                    let block = self.count_in_transaction(&collection, lsn);
                    envelope.put_unchecked(event::ENVELOPE_TRANSACTION_INDEX, Value::Struct(block));
                }
            }
            if let Some(last) = recs.last_mut() {
                set_offset(last, Arc::new(self.offset.to_map()));
            }
        }
        if n > 0 {
            self.last_emitted = Some(self.offset.clone());
        }
    }

    /// Moves the offset to the `nth` event at `lsn`; false when that event was already
    /// emitted before a restart (and must be skipped).
    pub(super) fn advance(&mut self, lsn: Lsn, message_type: &'static str) -> bool {
        let nth = self.next_nth(lsn);
        self.same_lsn = (lsn, nth);
        self.offset.lsn = Some(lsn);
        self.offset.lsn_proc = Some(lsn);
        self.offset.lsn_events_processed = nth;
        self.offset.message_type = Some(message_type);
        if self.resume.skip(lsn, nth) {
            debug!(%lsn, nth, "skipping event emitted before the restart");
            return false;
        }
        true
    }

    fn source_struct(&self, table: &TableSchema, lsn: Lsn) -> ferry_core::Struct {
        let (ts_us, tx_id) = match &self.tx {
            Some(t) => (t.commit_time_us, Some(t.xid as i64)),
            None => ((self.now_us)(), None),
        };
        self.source_at(&table.id.schema, &table.id.table, lsn, ts_us, tx_id)
    }

    /// The `source` block of a streamed event at `lsn`.
    pub(super) fn source_at(
        &self,
        schema: &str,
        table: &str,
        lsn: Lsn,
        ts_us: i64,
        tx_id: Option<i64>,
    ) -> ferry_core::Struct {
        SourceInfo {
            server: &self.cfg.topic_prefix,
            db: &self.cfg.dbname,
            ts_us,
            snapshot: SnapshotRecord::False,
            last_commit_lsn: self.offset.lsn_commit.map(Lsn::as_i64),
            lsn: Some(lsn.as_i64()),
            tx_id,
            origin: self.origin.as_ref().map(|o| o.0.as_str()),
            origin_lsn: self.origin.as_ref().map(|o| o.1.as_i64()),
        }
        .to_struct(schema, table)
    }
}

fn set_offset(r: &mut Record, offset: Arc<OffsetMap>) {
    if let Position::Source { offset: o, .. } = &mut r.position {
        *o = offset;
    }
}
