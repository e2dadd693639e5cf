//! Two Ferry workers in one `connect` group: kill -9 of the worker that runs the outbox
//! connector's task, several times, the killed worker restarted after its task moved.
//!
//! The group's coordinator is librdkafka's mock cluster (`ferry.group.bootstrap.servers`):
//! Tansu 0.6's coordinator never expires a killed member. Data and internal topics stay on
//! Tansu, as in `crates/ferry/tests/cluster.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_test_support::kafka::Tansu;
use ferry_test_support::net::free_port;
use ferry_test_support::postgres::PgCluster;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::RDKafkaApiKey;

use crate::now_ms;
use crate::outbox::{Fault, Figures};
use crate::proc::{task_placement, Ferry};
use crate::rng::Rng;
use crate::scenarios::Bench;

/// Group timing: the mock holds every JoinGroup but the first for `session.timeout.ms` − 1 s.
const SESSION_MS: &str = "3000";
const HEARTBEAT_MS: &str = "500";
const DELAY_MS: &str = "1000";

/// A mock cluster to be the workers' group coordinator, its group API versions capped
/// (the mock's flexible versions are broken), as `crates/ferry/tests/cluster.rs` does.
pub fn coordinator() -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).expect("mock cluster");
    for (key, max) in [
        (RDKafkaApiKey::JoinGroup, 5),
        (RDKafkaApiKey::SyncGroup, 3),
        (RDKafkaApiKey::LeaveGroup, 2),
    ] {
        cluster
            .apiversion(key, Some(0), Some(max))
            .expect("cap api version");
    }
    cluster
}

/// What the two-worker scenario measured, beyond the checker's figures.
#[derive(Debug, Clone)]
pub struct GroupFigures {
    pub figures: Figures,
    /// From each kill until the task was RUNNING on the surviving worker.
    pub moves: Vec<Duration>,
    /// Most walsenders streaming for the connector's database at one sample.
    pub max_streaming: usize,
    /// Samples of `pg_stat_replication` taken (every 100 ms).
    pub samples: usize,
    /// Distinct walsender pids seen holding the slot (`active_pid`).
    pub slot_holders: usize,
    /// "replication slot is in use; retrying" lines in the workers' logs.
    pub slot_retries: usize,
}

impl std::fmt::Display for GroupFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms: Vec<u128> = self.moves.iter().map(Duration::as_millis).collect();
        write!(
            f,
            "{} moves_ms={ms:?} max_streaming={} samples={} slot_holders={} slot_retries={}",
            self.figures, self.max_streaming, self.samples, self.slot_holders, self.slot_retries
        )
    }
}

/// Samples, every 100 ms, the walsenders streaming for `db` and the slot's `active_pid`.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<(usize, usize, Vec<i32>)>,
}

impl Sampler {
    async fn start(pg: &PgCluster, db: &str, slot: &str) -> Sampler {
        let client = pg.connect("postgres").await;
        let stop = Arc::new(AtomicBool::new(false));
        let (db, slot, flag) = (db.to_owned(), slot.to_owned(), stop.clone());
        let handle = tokio::spawn(async move {
            let (mut max, mut samples, mut holders) = (0usize, 0usize, Vec::<i32>::new());
            while !flag.load(Ordering::Relaxed) {
                let streaming = client
                    .query_one(
                        "SELECT count(*) FROM pg_stat_replication r JOIN pg_stat_activity a \
                         USING (pid) WHERE a.datname = $1 AND r.state IN ('catchup', 'streaming')",
                        &[&db],
                    )
                    .await
                    .map(|r| r.get::<_, i64>(0) as usize);
                let holder = client
                    .query_opt(
                        "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1",
                        &[&slot],
                    )
                    .await
                    .ok()
                    .flatten()
                    .and_then(|r| r.get::<_, Option<i32>>(0));
                if let Ok(n) = streaming {
                    max = max.max(n);
                    samples += 1;
                }
                if let Some(pid) = holder {
                    if holders.last() != Some(&pid) {
                        holders.push(pid);
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (max, samples, holders)
        });
        Sampler { stop, handle }
    }

    async fn stop(self) -> (usize, usize, Vec<i32>) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.expect("sampler")
    }
}

/// The two workers: same group, properties and topics, own ports and logs.
struct Pair {
    props: [PathBuf; 2],
    ports: [u16; 2],
    logs: [PathBuf; 2],
}

impl Pair {
    fn new(bench: &Bench<'_>) -> Pair {
        let base = std::fs::read_to_string(&bench.setup.props).expect("worker properties");
        let ports = [bench.setup.port, free_port()];
        let dir = bench.setup.dir.path();
        let props = [0, 1].map(|i| {
            let p = dir.join(format!("w{i}.properties"));
            let text = base.replace(
                &format!("listeners=http://127.0.0.1:{}", bench.setup.port),
                &format!("listeners=http://127.0.0.1:{}", ports[i]),
            );
            std::fs::write(&p, text).expect("write properties");
            p
        });
        Pair {
            props,
            ports,
            logs: [0, 1].map(|i| dir.join(format!("w{i}.log"))),
        }
    }

    fn spawn(&self, i: usize) -> Ferry {
        Ferry::spawn(&self.props[i], self.ports[i], &self.logs[i], &[])
    }

    fn id(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.ports[i])
    }

    fn logs(&self) -> String {
        (0..2)
            .map(|i| {
                let text = std::fs::read_to_string(&self.logs[i]).unwrap_or_default();
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.contains("\"GET /") && !l.contains("CONFWARN"))
                    .collect();
                format!(
                    "--- worker {i}\n{}\n",
                    lines[lines.len().saturating_sub(80)..].join("\n")
                )
            })
            .collect()
    }
}

/// Two workers, the outbox connector on them, rows every 10 ms; `kills` times: kill -9 of
/// the worker running the task, wait until the task is RUNNING on the other one, restart
/// the killed worker. Checks the three promises and that at most one walsender streams
/// for the slot at any sample, and that the task always recovered (never FAILED after its
/// slot retries).
pub async fn kill9_two_workers(
    scenario: &str,
    kills: usize,
    pg: &PgCluster,
    broker: &Tansu,
) -> Result<GroupFigures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let coord = coordinator();
    let coord_servers = coord.bootstrap_servers();
    let bench = Bench::new(
        "grp",
        pg,
        broker,
        "JSONB",
        &[
            ("ferry.group.membership", "connect"),
            ("ferry.group.bootstrap.servers", &coord_servers),
            ("session.timeout.ms", SESSION_MS),
            ("heartbeat.interval.ms", HEARTBEAT_MS),
            ("rebalance.timeout.ms", "10000"),
            ("scheduled.rebalance.max.delay.ms", DELAY_MS),
        ],
    )
    .await;
    let pair = Pair::new(&bench);
    let mut workers = [pair.spawn(0), pair.spawn(1)];
    for w in &mut workers {
        w.wait_ready();
    }
    let sampler = Sampler::start(pg, &bench.db, &bench.slot).await;
    bench
        .create_connector(&workers[0], &[("status.update.interval.ms", "200")])
        .await;
    let writer = bench.writer(&mut rng, Duration::from_millis(10), "JSONB");
    let mut faults = Vec::new();
    let mut moves = Vec::new();
    let mut failure = None;
    for k in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.range(1000, 4000))).await;
        let Some((owner, _)) = task_placement(&workers[0].url(""), bench.connector).await else {
            failure = Some(format!("kill #{}: no task status", k + 1));
            break;
        };
        let Some(victim) = (0..2).find(|i| pair.id(*i) == owner) else {
            failure = Some(format!("kill #{}: task on unknown worker {owner}", k + 1));
            break;
        };
        let survivor = 1 - victim;
        workers[victim].kill9();
        let at = now_ms();
        let killed = Instant::now();
        faults.push(Fault {
            from_ms: at,
            at_ms: at,
            what: format!("kill -9 #{} of worker {victim} (ran the task)", k + 1),
        });
        // The task is RUNNING on the survivor: the group expired the dead member, the
        // leader placed its work, and the new task got the slot.
        let deadline = killed + Duration::from_secs(90);
        let moved = loop {
            match task_placement(&workers[survivor].url(""), bench.connector).await {
                Some((w, s)) if w == pair.id(survivor) && s == "RUNNING" => break true,
                Some((_, s)) if s == "FAILED" => break false,
                _ if Instant::now() > deadline => break false,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        if !moved {
            let last = task_placement(&workers[survivor].url(""), bench.connector).await;
            failure = Some(format!(
                "kill #{}: the task did not become RUNNING on worker {survivor} within 90 s (last {last:?})",
                k + 1
            ));
            break;
        }
        moves.push(killed.elapsed());
        eprintln!(
            "[{scenario}] kill #{} of worker {victim}: task RUNNING on worker {survivor} after {:?}",
            k + 1,
            killed.elapsed()
        );
        workers[victim] = pair.spawn(victim);
        workers[victim].wait_ready();
    }
    // Both workers up: the task runs somewhere and every row arrives.
    if failure.is_none() {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match task_placement(&workers[0].url(""), bench.connector).await {
                Some((_, s)) if s == "RUNNING" => break,
                last if Instant::now() > deadline => {
                    failure = Some(format!("after the kills the task is not RUNNING: {last:?}"));
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (max_streaming, samples, holders) = sampler.stop().await;
    let logs = pair.logs();
    let slot_retries = (0..2)
        .map(|i| {
            std::fs::read_to_string(&pair.logs[i])
                .unwrap_or_default()
                .matches("replication slot is in use; retrying")
                .count()
        })
        .sum();
    if let Some(f) = failure {
        drop(writer.stop().await);
        drop(workers);
        bench.drop_slot().await;
        return Err(format!("{f}\n{logs}"));
    }
    let checked = bench.finish(scenario, writer, &faults).await;
    drop(workers);
    bench.drop_slot().await;
    let figures = checked.map_err(|e| format!("{e}\n{logs}"))?;
    let out = GroupFigures {
        figures,
        moves,
        max_streaming,
        samples,
        slot_holders: holders.len(),
        slot_retries,
    };
    if out.max_streaming > 1 {
        return Err(format!(
            "TWO WALSENDERS streamed for one slot at once: {out}\n{logs}"
        ));
    }
    Ok(out)
}
