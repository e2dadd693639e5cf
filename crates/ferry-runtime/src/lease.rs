//! One active worker per group: a consumer-group lease on the config topic.
//!
//! Every worker of a `group.id` joins that consumer group, subscribed to the
//! config topic, which has exactly one partition. The member assigned that
//! partition is the active worker; any other waits as a standby and takes over
//! when the active one leaves (graceful stop) or its session expires
//! (`session.timeout.ms`, 10 s by default as in Kafka Connect). A worker that
//! loses the partition while active must stop at once.

use std::sync::atomic::{AtomicBool, Ordering};

use ferry_kafka::membership::{GroupEvent, GroupMember};
use ferry_kafka::ClientSettings;
use tokio::sync::watch;

/// Where this worker stands in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseState {
    /// Not (yet) holding the config topic partition.
    Standby,
    /// Holding it: this worker runs the connectors.
    Active,
    /// Held it and lost it: the worker must stop.
    Lost,
}

struct LeaseTracker {
    state: watch::Sender<LeaseState>,
    /// Revoked while active: lost unless the next assignment gives the partition back
    /// (eager rebalances revoke everything first, then reassign).
    revoked_while_active: AtomicBool,
}

impl LeaseTracker {
    fn on_event(&self, event: GroupEvent) {
        let now = *self.state.borrow();
        let next = match event {
            GroupEvent::Assigned(n) if n > 0 => {
                self.revoked_while_active.store(false, Ordering::SeqCst);
                LeaseState::Active
            }
            GroupEvent::Assigned(_) if self.revoked_while_active.swap(false, Ordering::SeqCst) => {
                LeaseState::Lost
            }
            GroupEvent::Assigned(_) => now,
            GroupEvent::Revoked(n) => {
                if n > 0 && now == LeaseState::Active {
                    self.revoked_while_active.store(true, Ordering::SeqCst);
                }
                now
            }
            GroupEvent::Error(e) => {
                tracing::warn!("group rebalance error: {e}");
                now
            }
        };
        if next != now {
            let _ = self.state.send(next);
        }
    }
}

/// A held or awaited lease; dropping it leaves the group.
pub struct Lease {
    state: watch::Receiver<LeaseState>,
    member: Option<GroupMember>,
}

impl Lease {
    /// Joins `group` on `config_topic` and keeps the membership alive on a background thread.
    pub fn join(
        base: &ClientSettings,
        group: &str,
        config_topic: &str,
        session_timeout_ms: u64,
    ) -> Result<Lease, String> {
        let (tx, rx) = watch::channel(LeaseState::Standby);
        let tracker = LeaseTracker {
            state: tx,
            revoked_while_active: AtomicBool::new(false),
        };
        let member = GroupMember::join(base, group, config_topic, session_timeout_ms, move |e| {
            tracker.on_event(e)
        })?;
        Ok(Lease {
            state: rx,
            member: Some(member),
        })
    }

    /// A receiver of state changes.
    pub fn watch(&self) -> watch::Receiver<LeaseState> {
        self.state.clone()
    }

    /// The current state.
    pub fn state(&self) -> LeaseState {
        *self.state.borrow()
    }

    /// Waits until the state is no longer `from`.
    pub async fn changed_from(&mut self, from: LeaseState) -> LeaseState {
        loop {
            let now = *self.state.borrow_and_update();
            if now != from {
                return now;
            }
            if self.state.changed().await.is_err() {
                return LeaseState::Lost;
            }
        }
    }

    /// Leaves the group (blocks briefly while the member closes).
    pub fn leave(mut self) {
        if let Some(m) = self.member.take() {
            m.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tracker and the state it publishes, after `events` in order.
    fn after(events: Vec<GroupEvent>) -> LeaseState {
        let (tx, rx) = watch::channel(LeaseState::Standby);
        let tracker = LeaseTracker {
            state: tx,
            revoked_while_active: AtomicBool::new(false),
        };
        for e in events {
            tracker.on_event(e);
        }
        let state = *rx.borrow();
        state
    }

    #[test]
    fn the_member_assigned_the_partition_is_active() {
        assert_eq!(after(vec![]), LeaseState::Standby);
        assert_eq!(after(vec![GroupEvent::Assigned(0)]), LeaseState::Standby);
        assert_eq!(after(vec![GroupEvent::Assigned(1)]), LeaseState::Active);
        // A standby that is revoked nothing and assigned nothing stays a standby.
        assert_eq!(
            after(vec![GroupEvent::Revoked(0), GroupEvent::Assigned(0)]),
            LeaseState::Standby
        );
    }

    #[test]
    fn an_eager_rebalance_that_gives_the_partition_back_keeps_the_lease() {
        let events = vec![
            GroupEvent::Assigned(1),
            GroupEvent::Revoked(1),
            GroupEvent::Assigned(1),
        ];
        assert_eq!(after(events), LeaseState::Active);
    }

    #[test]
    fn losing_the_partition_while_active_is_lost() {
        let events = vec![
            GroupEvent::Assigned(1),
            GroupEvent::Revoked(1),
            GroupEvent::Assigned(0),
        ];
        assert_eq!(after(events), LeaseState::Lost);
        // A rebalance error changes nothing by itself.
        let events = vec![
            GroupEvent::Assigned(1),
            GroupEvent::Error("coordinator moved".into()),
        ];
        assert_eq!(after(events), LeaseState::Active);
    }
}
