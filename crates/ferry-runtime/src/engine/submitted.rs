//! Which source offsets may be committed: an offset becomes committable only when
//! the record carrying it and every record submitted before it were acknowledged
//! by the broker (or deliberately dropped).

use std::collections::VecDeque;
use std::sync::Arc;

use ferry_core::{CommittedOffset, OffsetMap};

struct Pending {
    partition: Arc<OffsetMap>,
    offset: Arc<OffsetMap>,
    acked: bool,
}

/// Records submitted but not yet committable, in submission order.
#[derive(Default)]
pub struct SubmittedRecords {
    queue: VecDeque<Pending>,
    /// Sequence number of `queue[0]`.
    base: u64,
    next: u64,
    /// Records submitted and not yet acknowledged.
    unacked: usize,
    /// Latest committable offset per partition, with a flag telling whether it changed since the last take.
    committable: Vec<(Arc<OffsetMap>, Arc<OffsetMap>, bool)>,
}

impl SubmittedRecords {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a record; returns its sequence number.
    pub fn submit(&mut self, partition: Arc<OffsetMap>, offset: Arc<OffsetMap>) -> u64 {
        let seq = self.next;
        self.next += 1;
        self.unacked += 1;
        self.queue.push_back(Pending {
            partition,
            offset,
            acked: false,
        });
        seq
    }

    /// Marks a record acknowledged (sent, or dropped on purpose) and advances committable offsets.
    pub fn ack(&mut self, seq: u64) {
        let Some(idx) = seq.checked_sub(self.base) else {
            return;
        };
        if let Some(p) = self.queue.get_mut(idx as usize) {
            if !p.acked {
                p.acked = true;
                self.unacked -= 1;
            }
        }
        while self.queue.front().is_some_and(|p| p.acked) {
            let p = self.queue.pop_front().expect("front exists");
            self.base += 1;
            match self
                .committable
                .iter_mut()
                .find(|(part, _, _)| Arc::ptr_eq(part, &p.partition) || **part == *p.partition)
            {
                Some(entry) => {
                    entry.1 = p.offset;
                    entry.2 = true;
                }
                None => self.committable.push((p.partition, p.offset, true)),
            }
        }
    }

    /// Records submitted and not yet acknowledged.
    pub fn outstanding(&self) -> usize {
        self.unacked
    }

    /// Committable offsets that changed since the last call.
    pub fn take_changed(&mut self) -> Vec<CommittedOffset> {
        self.committable
            .iter_mut()
            .filter(|(_, _, changed)| *changed)
            .map(|(partition, offset, changed)| {
                *changed = false;
                CommittedOffset {
                    partition: partition.clone(),
                    offset: offset.clone(),
                }
            })
            .collect()
    }

    /// Puts offsets back as changed (their flush failed and must be retried).
    pub fn restore(&mut self, offsets: &[CommittedOffset]) {
        for c in offsets {
            if let Some(e) = self.committable.iter_mut().find(|(p, _, _)| **p == *c.partition) {
                e.2 = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(k: &str, v: i64) -> Arc<OffsetMap> {
        let mut map = OffsetMap::new();
        map.insert(k.into(), v.into());
        Arc::new(map)
    }

    #[test]
    fn offset_waits_for_every_earlier_record() {
        let part = m("p", 0);
        let mut s = SubmittedRecords::new();
        let a = s.submit(part.clone(), m("pos", 1));
        let b = s.submit(part.clone(), m("pos", 2));
        let c = s.submit(part.clone(), m("pos", 3));
        s.ack(c);
        assert!(
            s.take_changed().is_empty(),
            "c acked before a and b: nothing committable"
        );
        s.ack(a);
        let got = s.take_changed();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].offset, m("pos", 1));
        s.ack(b);
        assert_eq!(s.take_changed()[0].offset, m("pos", 3));
        assert_eq!(s.outstanding(), 0);
        assert!(s.take_changed().is_empty());
    }

    #[test]
    fn partitions_tracked_separately_and_restore_marks_changed() {
        let (p1, p2) = (m("p", 1), m("p", 2));
        let mut s = SubmittedRecords::new();
        let a = s.submit(p1.clone(), m("pos", 10));
        let b = s.submit(p2.clone(), m("pos", 20));
        s.ack(a);
        s.ack(b);
        let got = s.take_changed();
        assert_eq!(got.len(), 2);
        s.restore(&got[..1]);
        assert_eq!(s.take_changed().len(), 1);
    }

    #[test]
    fn equal_partitions_from_different_allocations_merge() {
        let mut s = SubmittedRecords::new();
        let a = s.submit(m("p", 1), m("pos", 1));
        let b = s.submit(m("p", 1), m("pos", 2));
        s.ack(a);
        s.ack(b);
        let got = s.take_changed();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].offset, m("pos", 2));
    }
}
