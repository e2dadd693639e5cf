//! Membership of a consumer group subscribed to one topic, for the worker lease:
//! which member holds the topic's partitions, reported as they change.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::ClientContext;

use crate::ClientSettings;

/// A change of this member's assignment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    /// Partitions assigned (how many; zero when the member got none).
    Assigned(usize),
    /// Partitions revoked (how many).
    Revoked(usize),
    /// The rebalance failed.
    Error(String),
}

type Listener = Box<dyn Fn(GroupEvent) + Send + Sync>;

struct MemberContext {
    on_event: Listener,
}

impl ClientContext for MemberContext {}

impl ConsumerContext for MemberContext {
    fn post_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        (self.on_event)(match rebalance {
            Rebalance::Assign(tpl) => GroupEvent::Assigned(tpl.count()),
            Rebalance::Revoke(tpl) => GroupEvent::Revoked(tpl.count()),
            Rebalance::Error(e) => GroupEvent::Error(e.to_string()),
        });
    }
}

/// A group member kept alive on a background thread; dropping it leaves the group.
pub struct GroupMember {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GroupMember {
    /// Joins `group` subscribed to `topic` (cooperative-sticky assignment, no commits),
    /// calling `on_event` from the member's thread at every rebalance. The member's
    /// partitions are paused once assigned: it holds them without reading.
    pub fn join(
        base: &ClientSettings,
        group: &str,
        topic: &str,
        session_timeout_ms: u64,
        on_event: impl Fn(GroupEvent) + Send + Sync + 'static,
    ) -> Result<GroupMember, String> {
        let mut cfg = base.rdkafka().clone();
        cfg.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", session_timeout_ms.to_string())
            .set(
                "heartbeat.interval.ms",
                (session_timeout_ms / 3).max(100).to_string(),
            )
            .set("partition.assignment.strategy", "cooperative-sticky");
        let consumer: BaseConsumer<MemberContext> = cfg
            .create_with_context(MemberContext {
                on_event: Box::new(on_event),
            })
            .map_err(|e| format!("cannot create the group member for group.id {group}: {e}"))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| format!("cannot join group.id {group}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ferry-group-member".into())
            .spawn(move || {
                let mut paused = false;
                while !stop2.load(Ordering::SeqCst) {
                    // The topic's records are not needed here: pause once assigned.
                    if let Some(Ok(_)) = consumer.poll(Duration::from_millis(200)) {}
                    if !paused {
                        if let Ok(a) = consumer.assignment() {
                            if a.count() > 0 {
                                paused = consumer.pause(&a).is_ok();
                            }
                        }
                    }
                }
                consumer.unsubscribe();
                drop(consumer);
            })
            .map_err(|e| format!("cannot start the group member thread: {e}"))?;
        Ok(GroupMember {
            stop,
            thread: Some(thread),
        })
    }

    /// Leaves the group (blocks briefly while the member closes).
    pub fn leave(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for GroupMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
