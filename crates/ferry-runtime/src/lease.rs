//! One active worker per group: a consumer-group lease on the config topic.
//!
//! Every worker of a `group.id` joins that consumer group, subscribed to the
//! config topic, which has exactly one partition. The member assigned that
//! partition is the active worker; any other waits as a standby and takes over
//! when the active one leaves (graceful stop) or its session expires
//! (`session.timeout.ms`, 10 s by default as in Kafka Connect). A worker that
//! loses the partition while active must stop at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferry_kafka::rdkafka::config::ClientConfig;
use ferry_kafka::rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use ferry_kafka::rdkafka::ClientContext;
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

struct LeaseContext {
    state: watch::Sender<LeaseState>,
    /// Revoked while active: lost unless the next assignment gives the partition back
    /// (eager rebalances revoke everything first, then reassign).
    revoked_while_active: AtomicBool,
}

impl ClientContext for LeaseContext {}

impl ConsumerContext for LeaseContext {
    fn post_rebalance(&self, _c: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let now = *self.state.borrow();
        let next = match rebalance {
            Rebalance::Assign(tpl) if tpl.count() > 0 => {
                self.revoked_while_active.store(false, Ordering::SeqCst);
                LeaseState::Active
            }
            Rebalance::Assign(_) if self.revoked_while_active.swap(false, Ordering::SeqCst) => {
                LeaseState::Lost
            }
            Rebalance::Assign(_) => now,
            Rebalance::Revoke(tpl) => {
                if tpl.count() > 0 && now == LeaseState::Active {
                    self.revoked_while_active.store(true, Ordering::SeqCst);
                }
                now
            }
            Rebalance::Error(e) => {
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
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Lease {
    /// Joins `group` on `config_topic` and keeps the membership alive on a background thread.
    pub fn join(
        base: &ClientConfig,
        group: &str,
        config_topic: &str,
        session_timeout_ms: u64,
    ) -> Result<Lease, String> {
        let mut cfg = base.clone();
        cfg.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", session_timeout_ms.to_string())
            .set(
                "heartbeat.interval.ms",
                (session_timeout_ms / 3).max(100).to_string(),
            )
            .set("partition.assignment.strategy", "cooperative-sticky");
        let (tx, rx) = watch::channel(LeaseState::Standby);
        let consumer: BaseConsumer<LeaseContext> = cfg
            .create_with_context(LeaseContext {
                state: tx,
                revoked_while_active: AtomicBool::new(false),
            })
            .map_err(|e| format!("cannot create the group member for group.id {group}: {e}"))?;
        consumer
            .subscribe(&[config_topic])
            .map_err(|e| format!("cannot join group.id {group}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ferry-group-member".into())
            .spawn(move || {
                let mut paused = false;
                while !stop2.load(Ordering::SeqCst) {
                    // Records of the config topic are not needed here: pause once assigned.
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
        Ok(Lease {
            state: rx,
            stop,
            thread: Some(thread),
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
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}
