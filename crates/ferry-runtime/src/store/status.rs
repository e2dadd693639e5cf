//! Connector and task states: kept in memory, written to the status topic.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use ferry_kafka::records::{State, StatusKey, StatusRecord};
use ferry_kafka::InternalLog;

use super::StoreError;

/// What the background writer is asked to do, in order.
enum StatusWrite {
    /// Write a record (a `None` value is a tombstone).
    Record(String, Option<Vec<u8>>),
    /// Answer once everything asked before has been written.
    Flush(oneshot::Sender<()>),
}

/// Latest status per connector and task.
///
/// Reads are served from memory; writes update memory at once and reach the status
/// topic through one background writer, in order, so a slow or unreachable broker
/// never stalls the caller.
pub struct StatusStore {
    log: Option<Arc<dyn InternalLog>>,
    writer: Option<mpsc::UnboundedSender<StatusWrite>>,
    worker_id: String,
    generation: Mutex<i32>,
    data: Mutex<HashMap<StatusKey, StatusRecord>>,
    /// What this worker last wrote per key (kept when another worker's record replaces it).
    own: Mutex<HashMap<StatusKey, StatusRecord>>,
    /// Active topics per connector (KIP-558 topic tracking).
    topics: Mutex<HashMap<String, BTreeSet<String>>>,
}

impl StatusStore {
    /// A store writing to the status topic (or only to memory when `log` is `None`).
    pub fn new(log: Option<Arc<dyn InternalLog>>, worker_id: String) -> Self {
        StatusStore {
            writer: None,
            log,
            worker_id,
            generation: Mutex::new(0),
            data: Mutex::new(HashMap::new()),
            own: Mutex::new(HashMap::new()),
            topics: Mutex::new(HashMap::new()),
        }
    }

    /// Starts the background writer (call once, inside the runtime).
    pub fn start_writer(&mut self) {
        let Some(log) = self.log.clone() else { return };
        let (tx, mut rx) = mpsc::unbounded_channel::<StatusWrite>();
        tokio::spawn(async move {
            while let Some(write) = rx.recv().await {
                match write {
                    StatusWrite::Record(key, value) => {
                        if let Err(e) = log.send(key.as_bytes(), value.as_deref()).await {
                            // Status is advisory; memory still answers REST. The next status write retries.
                            tracing::warn!(key = %key, "could not write status: {e}");
                        }
                    }
                    StatusWrite::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        self.writer = Some(tx);
    }

    /// Reads the status topic; this worker's generation becomes one past the highest seen.
    pub async fn load(&self) -> Result<(), StoreError> {
        let Some(log) = &self.log else { return Ok(()) };
        let records = log.read_to_end().await?;
        let mut data = self.data.lock().expect("status lock");
        let mut topics = self.topics.lock().expect("topics lock");
        let mut max_gen = 0;
        for r in records {
            let Some(key) = r.key.as_deref().map(String::from_utf8_lossy) else {
                continue;
            };
            let Some(k) = StatusKey::decode(&key) else {
                continue;
            };
            if let StatusKey::Topic { topic, connector } = &k {
                let set = topics.entry(connector.clone()).or_default();
                if r.value.is_some() {
                    set.insert(topic.clone());
                } else {
                    set.remove(topic);
                }
                continue;
            }
            match r.value {
                Some(v) => {
                    if let Ok(rec) = StatusRecord::decode(&key, &v) {
                        max_gen = max_gen.max(rec.generation);
                        data.insert(k, rec);
                    }
                }
                None => {
                    data.remove(&k);
                }
            }
        }
        *self.generation.lock().expect("generation lock") = max_gen + 1;
        Ok(())
    }

    /// Sets the generation this worker writes (the worker group's generation).
    pub fn set_generation(&self, generation: i32) {
        *self.generation.lock().expect("generation lock") = generation;
    }

    /// Re-reads the status topic for what other workers wrote: a record replaces the one
    /// in memory unless that one is this worker's and at least as new (by generation).
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let Some(log) = &self.log else { return Ok(()) };
        let records = log.read_to_end().await?;
        let mut latest: HashMap<StatusKey, Option<StatusRecord>> = HashMap::new();
        for r in records {
            let Some(key) = r.key.as_deref().map(String::from_utf8_lossy) else {
                continue;
            };
            let Some(k) = StatusKey::decode(&key) else {
                continue;
            };
            if matches!(k, StatusKey::Topic { .. }) {
                continue;
            }
            let rec = r.value.and_then(|v| StatusRecord::decode(&key, &v).ok());
            latest.insert(k, rec);
        }
        let mut data = self.data.lock().expect("status lock");
        let own = self.own.lock().expect("status lock");
        for (k, rec) in latest {
            let current = data.get(&k).cloned();
            let ours = current.as_ref().filter(|m| m.worker_id == self.worker_id);
            match (rec, ours) {
                // A record with this worker's id is one this process wrote, or one of a
                // former run of the worker (before a restart, possibly at a higher
                // generation than a new group's): never newer than what this process
                // wrote last, which may not be in the topic yet.
                (Some(r), _) if r.worker_id == self.worker_id && own.contains_key(&k) => {}
                (Some(r), Some(m)) if r.generation <= m.generation => {}
                // As Connect reads task statuses: an UNASSIGNED written by a worker that
                // had not yet seen the RUNNING of the same or a later generation is stale.
                (Some(r), _) if is_stale_unassigned(&k, &r, current.as_ref()) => {}
                (Some(r), _) => {
                    data.insert(k, r);
                }
                (None, Some(_)) => {}
                (None, None) => {
                    data.remove(&k);
                }
            }
        }
        Ok(())
    }

    /// The generation this worker writes.
    pub fn generation(&self) -> i32 {
        *self.generation.lock().expect("generation lock")
    }

    /// Records a state with the plugin's version (in memory at once, then on the status topic).
    pub async fn put(&self, key: StatusKey, state: State, trace: Option<String>, version: Option<String>) {
        let rec = StatusRecord {
            state,
            trace,
            worker_id: self.worker_id.clone(),
            generation: self.generation(),
            version,
        };
        let bytes = rec.encode();
        self.own
            .lock()
            .expect("status lock")
            .insert(key.clone(), rec.clone());
        self.data.lock().expect("status lock").insert(key.clone(), rec);
        self.write(key.encode(), Some(bytes));
    }

    /// Removes a status (tombstone), e.g. when a connector is deleted.
    pub async fn remove(&self, key: StatusKey) {
        self.own.lock().expect("status lock").remove(&key);
        self.data.lock().expect("status lock").remove(&key);
        self.write(key.encode(), None);
    }

    fn write(&self, key: String, value: Option<Vec<u8>>) {
        if let Some(w) = &self.writer {
            let _ = w.send(StatusWrite::Record(key, value));
        }
    }

    /// Waits, at most `limit`, until every status recorded so far has been written to the
    /// status topic (at worker shutdown, as Connect's status store flushes its producer).
    /// False when the limit passed first.
    pub async fn flush(&self, limit: Duration) -> bool {
        let Some(w) = &self.writer else { return true };
        let (done, written) = oneshot::channel();
        if w.send(StatusWrite::Flush(done)).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(limit, written).await, Ok(Ok(())))
    }

    /// Writes again, at the current generation, this worker's last state of each key it
    /// still runs when another worker's record has replaced it: a worker that missed
    /// generations while keeping its work (a coordinator that completed a rebalance
    /// without it) would otherwise show the other worker's UNASSIGNED for work it runs.
    pub async fn reassert(&self, running: &[StatusKey]) {
        let generation = self.generation();
        let stale: Vec<(StatusKey, StatusRecord)> = {
            let data = self.data.lock().expect("status lock");
            let own = self.own.lock().expect("status lock");
            running
                .iter()
                .filter_map(|k| {
                    let mine = own.get(k)?;
                    let current = data.get(k)?;
                    let replaced = current.worker_id != self.worker_id && current.generation <= generation;
                    let live = !matches!(mine.state, State::Unassigned | State::Destroyed);
                    (replaced && live).then(|| (k.clone(), mine.clone()))
                })
                .collect()
        };
        for (key, mine) in stale {
            tracing::debug!(key = %key.encode(), generation, "re-asserting this worker's status");
            self.put(key, mine.state, mine.trace, mine.version).await;
        }
    }

    /// The latest status of a key.
    pub fn get(&self, key: &StatusKey) -> Option<StatusRecord> {
        self.data.lock().expect("status lock").get(key).cloned()
    }

    /// Every task status of a connector, by task number.
    pub fn task_statuses(&self, connector: &str) -> Vec<(u32, StatusRecord)> {
        let data = self.data.lock().expect("status lock");
        let mut out: Vec<(u32, StatusRecord)> = data
            .iter()
            .filter_map(|(k, v)| match k {
                StatusKey::Task(c, t) if c == connector => Some((*t, v.clone())),
                _ => None,
            })
            .collect();
        out.sort_by_key(|(t, _)| *t);
        out
    }

    /// Records that a connector's task used `topic` (once per connector and topic).
    pub async fn record_topic(&self, connector: &str, task: u32, topic: &str) {
        let new = self
            .topics
            .lock()
            .expect("topics lock")
            .entry(connector.to_owned())
            .or_default()
            .insert(topic.to_owned());
        if !new {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let key = StatusKey::Topic {
            topic: topic.to_owned(),
            connector: connector.to_owned(),
        };
        let value = ferry_kafka::records::encode_topic_status(topic, connector, task, now);
        self.put_raw(&key.encode(), Some(&value)).await;
    }

    /// A connector's active topics, sorted.
    pub fn active_topics(&self, connector: &str) -> Vec<String> {
        self.topics
            .lock()
            .expect("topics lock")
            .get(connector)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets a connector's active topics (tombstones on the status topic).
    pub async fn reset_topics(&self, connector: &str) {
        let topics = self
            .topics
            .lock()
            .expect("topics lock")
            .remove(connector)
            .unwrap_or_default();
        for topic in topics {
            let key = StatusKey::Topic {
                topic,
                connector: connector.to_owned(),
            };
            self.put_raw(&key.encode(), None).await;
        }
    }

    async fn put_raw(&self, key: &str, value: Option<&[u8]>) {
        self.write(key.to_owned(), value.map(<[u8]>::to_vec));
    }
}

/// Whether `incoming` is a task's UNASSIGNED that a RUNNING of the same or a later
/// generation supersedes (Connect's `KafkaStatusBackingStore` ignores those).
fn is_stale_unassigned(key: &StatusKey, incoming: &StatusRecord, current: Option<&StatusRecord>) -> bool {
    matches!(key, StatusKey::Task(..))
        && incoming.state == State::Unassigned
        && current.is_some_and(|c| c.state == State::Running && c.generation >= incoming.generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_kafka::memory::MemoryCluster;

    fn store(cluster: &MemoryCluster) -> StatusStore {
        StatusStore::new(Some(Arc::new(cluster.log("statuses"))), "w:8083".into())
    }

    #[tokio::test]
    async fn flush_waits_until_every_recorded_status_is_on_the_topic() {
        let cluster = MemoryCluster::new();
        cluster.slow_writes("statuses", Some(Duration::from_millis(30)));
        let mut statuses = store(&cluster);
        statuses.start_writer();
        for t in 0..3 {
            statuses
                .put(StatusKey::Task("c".into(), t), State::Unassigned, None, None)
                .await;
        }
        // Memory answers at once; the topic lags behind the slow broker.
        assert_eq!(statuses.task_statuses("c").len(), 3);
        assert!(cluster.records("statuses").len() < 3);
        assert!(statuses.flush(Duration::from_secs(5)).await);
        assert_eq!(cluster.records("statuses").len(), 3);

        // A flush that cannot finish in time says so.
        cluster.slow_writes("statuses", Some(Duration::from_secs(10)));
        statuses.remove(StatusKey::Task("c".into(), 0)).await;
        assert!(!statuses.flush(Duration::from_millis(50)).await);
    }

    #[tokio::test]
    async fn load_restores_statuses_topics_and_the_next_generation() {
        let cluster = MemoryCluster::new();
        let mut first = store(&cluster);
        first.load().await.unwrap();
        first.start_writer();
        assert_eq!(first.generation(), 1);
        first
            .put(
                StatusKey::Connector("c".into()),
                State::Running,
                None,
                Some("4.3.0".into()),
            )
            .await;
        first
            .put(
                StatusKey::Task("c".into(), 0),
                State::Failed,
                Some("trace".into()),
                Some("4.3.0".into()),
            )
            .await;
        first.record_topic("c", 0, "orders").await;
        first.record_topic("c", 0, "payments").await;
        first.reset_topics("c").await;
        first.record_topic("c", 0, "orders").await;
        assert!(first.flush(Duration::from_secs(5)).await);

        let second = store(&cluster);
        second.load().await.unwrap();
        assert_eq!(second.generation(), 2);
        let task = second.get(&StatusKey::Task("c".into(), 0)).unwrap();
        assert_eq!(
            (task.state, task.trace.as_deref()),
            (State::Failed, Some("trace"))
        );
        assert_eq!(task.worker_id, "w:8083");
        assert_eq!(task.version.as_deref(), Some("4.3.0"));
        assert_eq!(second.active_topics("c"), ["orders"]);
    }

    /// Two workers on one status topic, each with its own generation.
    async fn pair(cluster: &MemoryCluster) -> (StatusStore, StatusStore) {
        let mut a = store(cluster);
        let mut b = StatusStore::new(Some(Arc::new(cluster.log("statuses"))), "jvm:8083".into());
        a.start_writer();
        b.start_writer();
        (a, b)
    }

    #[tokio::test]
    async fn a_late_unassigned_of_an_older_generation_does_not_hide_a_running_task() {
        let cluster = MemoryCluster::new();
        let (ferry, other) = pair(&cluster).await;
        let task = StatusKey::Task("c".into(), 0);
        other.set_generation(4);
        other.put(task.clone(), State::Running, None, None).await;
        assert!(other.flush(Duration::from_secs(5)).await);
        ferry.set_generation(5);
        other.set_generation(5);
        // A third view reads the RUNNING of generation 5, then the other worker's late
        // UNASSIGNED of generation 5: Connect keeps the RUNNING.
        let reader = StatusStore::new(Some(Arc::new(cluster.log("statuses"))), "r:8083".into());
        ferry.put(task.clone(), State::Running, None, None).await;
        assert!(ferry.flush(Duration::from_secs(5)).await);
        reader.refresh().await.unwrap();
        other.put(task.clone(), State::Unassigned, None, None).await;
        assert!(other.flush(Duration::from_secs(5)).await);
        reader.refresh().await.unwrap();
        let seen = reader.get(&task).unwrap();
        assert_eq!((seen.state, seen.worker_id.as_str()), (State::Running, "w:8083"));
        // A later generation's UNASSIGNED is news.
        other.set_generation(6);
        other.put(task.clone(), State::Unassigned, None, None).await;
        assert!(other.flush(Duration::from_secs(5)).await);
        reader.refresh().await.unwrap();
        assert_eq!(reader.get(&task).unwrap().state, State::Unassigned);
    }

    /// A worker restarted in a new group (generation 1) under the same worker id: the
    /// UNASSIGNED its former run wrote at generation 3 must not replace the RUNNING this
    /// run recorded and has not yet written.
    #[tokio::test]
    async fn a_former_runs_status_does_not_replace_this_runs_after_a_generation_reset() {
        let cluster = MemoryCluster::new();
        let task = StatusKey::Task("c".into(), 0);
        let mut former = store(&cluster);
        former.start_writer();
        former.set_generation(3);
        former.put(task.clone(), State::Running, None, None).await;
        former.put(task.clone(), State::Unassigned, None, None).await;
        assert!(former.flush(Duration::from_secs(5)).await);
        // The new run has no writer yet: its RUNNING is in memory only.
        let restarted = store(&cluster);
        restarted.load().await.unwrap();
        restarted.set_generation(1);
        restarted.put(task.clone(), State::Running, None, None).await;
        restarted.refresh().await.unwrap();
        let seen = restarted.get(&task).unwrap();
        assert_eq!((seen.state, seen.generation), (State::Running, 1));
    }

    #[tokio::test]
    async fn reassert_rewrites_the_state_of_work_this_worker_still_runs() {
        let cluster = MemoryCluster::new();
        let (ferry, other) = pair(&cluster).await;
        let (task, gone) = (StatusKey::Task("c".into(), 0), StatusKey::Task("c".into(), 1));
        // This worker started both tasks in generation 9 and then missed generations
        // 10 to 14, in which the other worker ran and gave up task 0.
        ferry.set_generation(9);
        ferry
            .put(task.clone(), State::Running, None, Some("4.3.0".into()))
            .await;
        ferry.put(gone.clone(), State::Running, None, None).await;
        other.set_generation(12);
        other.put(task.clone(), State::Unassigned, None, None).await;
        other.put(gone.clone(), State::Running, None, None).await;
        assert!(other.flush(Duration::from_secs(5)).await);
        ferry.set_generation(15);
        ferry.refresh().await.unwrap();
        assert_eq!(ferry.get(&task).unwrap().worker_id, "jvm:8083");
        // Generation 15 leaves task 0 here: its RUNNING is written again, at 15.
        ferry.reassert(std::slice::from_ref(&task)).await;
        let mine = ferry.get(&task).unwrap();
        assert_eq!(
            (
                mine.state,
                mine.worker_id.as_str(),
                mine.generation,
                mine.version.as_deref()
            ),
            (State::Running, "w:8083", 15, Some("4.3.0"))
        );
        assert!(ferry.flush(Duration::from_secs(5)).await);
        let reader = StatusStore::new(Some(Arc::new(cluster.log("statuses"))), "r:8083".into());
        reader.refresh().await.unwrap();
        assert_eq!(reader.get(&task).unwrap().worker_id, "w:8083");
        // Task 1, not run here any more, keeps the other worker's record.
        assert_eq!(reader.get(&gone).unwrap().worker_id, "jvm:8083");
        // Nothing to re-assert a second time, nor for a newer generation's record.
        let before = cluster.records("statuses").len();
        ferry.reassert(std::slice::from_ref(&task)).await;
        other.set_generation(16);
        other.put(task.clone(), State::Running, None, None).await;
        assert!(other.flush(Duration::from_secs(5)).await);
        ferry.refresh().await.unwrap();
        ferry.reassert(std::slice::from_ref(&task)).await;
        assert!(ferry.flush(Duration::from_secs(5)).await);
        assert_eq!(cluster.records("statuses").len(), before + 1);
    }
}
