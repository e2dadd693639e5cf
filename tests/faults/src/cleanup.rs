//! The built-in outbox cleanup (`outbox.cleanup.enabled`) under kill -9 at a steady
//! 1,000 rows/s: no committed row's event is lost, no row is deleted before an offset
//! covering it was stored, and the table stays bounded.
//!
//! Deleted rows cannot be read back from the outbox table, so triggers keep the truth
//! elsewhere: `outbox_log` gets every committed row (in the inserting transaction) and
//! `outbox_deleted` every deleted one with the moment of its delete. Neither is captured
//! (`table.include.list=public.outbox`, a filtered publication).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde_json::Value;

use crate::now_ms;
use crate::outbox::{check, stored_offsets, Committed, Fault, Figures, History, Writer};
use crate::proc::wait_state;
use crate::rng::Rng;
use crate::scenarios::Bench;

const LOG_DDL: &str = "
CREATE TABLE outbox_log (id uuid PRIMARY KEY, aggregate_type text NOT NULL, aggregate_id text NOT NULL, payload jsonb NOT NULL);
CREATE TABLE outbox_deleted (id uuid PRIMARY KEY, txid bigint NOT NULL, deleted_ms bigint NOT NULL);
CREATE FUNCTION outbox_log_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO outbox_log VALUES (NEW.id, NEW.aggregate_type, NEW.aggregate_id, NEW.payload::jsonb); RETURN NULL; END $$;
CREATE FUNCTION outbox_log_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO outbox_deleted VALUES (OLD.id, (OLD.payload::jsonb->>'txid')::bigint,
  (extract(epoch FROM clock_timestamp()) * 1000)::bigint); RETURN NULL; END $$;
CREATE TRIGGER outbox_log_i AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_log_insert();
CREATE TRIGGER outbox_log_d AFTER DELETE ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_log_delete();
";

/// Rows per writer transaction and the pause between transactions: 1,000 rows/s.
const ROWS_PER_TX: usize = 10;
const TX_INTERVAL: Duration = Duration::from_millis(10);
/// How long the run goes on without faults at the end (the steady-state window).
const STEADY: Duration = Duration::from_secs(10);

/// What the cleanup scenario measured.
#[derive(Debug, Clone)]
pub struct CleanupFigures {
    /// The promises' figures (lost, duplicates, order), from the checker.
    pub figures: Figures,
    /// Rows committed per second of writing.
    pub rows_per_s: f64,
    /// Rows the cleanup deleted.
    pub deleted: usize,
    /// Deleted rows whose transaction was not covered by an offset stored before the delete.
    pub deleted_early: usize,
    /// Largest outbox table seen (sampled every 250 ms), over the whole run.
    pub max_rows: i64,
    /// Largest outbox table seen in the last `STEADY` seconds (no faults).
    pub steady_max_rows: i64,
    /// The median of the samples in that window.
    pub steady_median_rows: i64,
    /// Rows left 3 s after the writer stopped.
    pub final_rows: i64,
    /// Table size samples taken.
    pub samples: usize,
}

impl std::fmt::Display for CleanupFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows/s={:.0} deleted={} deleted_early={} max_rows={} steady_max_rows={} steady_median_rows={} final_rows={} samples={}",
            self.figures,
            self.rows_per_s,
            self.deleted,
            self.deleted_early,
            self.max_rows,
            self.steady_max_rows,
            self.steady_median_rows,
            self.final_rows,
            self.samples
        )
    }
}

/// Samples `SELECT count(*) FROM outbox` every 250 ms until stopped.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<Vec<(i64, i64)>>,
}

impl Sampler {
    fn start(conn_str: String) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = tokio::spawn(async move {
            let mut out = Vec::new();
            let mut client: Option<tokio_postgres::Client> = None;
            while !flag.load(Ordering::SeqCst) {
                if client.as_ref().is_none_or(|c| c.is_closed()) {
                    if let Ok((c, conn)) = tokio_postgres::connect(&conn_str, tokio_postgres::NoTls).await {
                        tokio::spawn(async move {
                            let _ = conn.await;
                        });
                        client = Some(c);
                    }
                }
                if let Some(c) = &client {
                    if let Ok(r) = c.query_one("SELECT count(*) FROM outbox", &[]).await {
                        out.push((now_ms(), r.get::<_, i64>(0)));
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            out
        });
        Sampler { stop, handle }
    }

    async fn stop(self) -> Vec<(i64, i64)> {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.await.unwrap()
    }
}

/// The stored offsets of `connector`: (record timestamp ms, txId, messageType), in topic order.
fn stored_offsets_with_type(broker: &Tansu, topic: &str, connector: &str) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    for r in broker.consume_until_idle_within(topic, Duration::from_millis(1500), Duration::from_secs(15)) {
        let Some(k) = r.key_str().and_then(|k| serde_json::from_str::<Value>(k).ok()) else {
            continue;
        };
        if k[0] != connector {
            continue;
        }
        let Some(v) = r
            .value
            .as_deref()
            .and_then(|v| serde_json::from_slice::<Value>(v).ok())
        else {
            continue;
        };
        if let Some(tx) = v["txId"].as_i64() {
            let t = v["messageType"].as_str().unwrap_or_default().to_owned();
            out.push((r.timestamp.unwrap_or(0), tx, t));
        }
    }
    out
}

/// Deleted rows (txid, deleted at) not covered by the last offset stored before the delete:
/// the row's transaction must be older than the stored one, or be it with the offset after
/// its COMMIT. (The writer is the only one writing outbox rows, one transaction at a time,
/// so its transaction ids follow commit order.)
pub fn deleted_before_stored(deleted: &[(i64, i64)], offsets: &[(i64, i64, String)]) -> Vec<(i64, i64)> {
    deleted
        .iter()
        .copied()
        .filter(|(txid, at)| {
            let stored = offsets.iter().rfind(|(ts, _, _)| ts < at);
            match stored {
                None => true,
                Some((_, s, t)) => !(txid < s || (txid == s && t == "COMMIT")),
            }
        })
        .collect()
}

/// The scenario: cleanup on, 1,000 rows/s, `kills` × kill -9 1.5–4 s apart, a restart after
/// each, then `STEADY` without faults.
pub async fn cleanup_kill9(
    scenario: &str,
    kills: usize,
    pg: &PgCluster,
    broker: &Tansu,
) -> Result<CleanupFigures, String> {
    let mut rng = Rng::for_scenario(scenario);
    let bench = Bench::new("cleanup", pg, broker, "JSONB", &[]).await;
    let c = pg.connect(&bench.db).await;
    c.batch_execute(LOG_DDL).await.unwrap();
    let mut ferry = bench.setup.start();
    bench
        .create_connector(
            &ferry,
            &[
                ("publication.autocreate.mode", "filtered"),
                ("status.update.interval.ms", "200"),
                ("heartbeat.interval.ms", "1000"),
                ("outbox.cleanup.enabled", "true"),
                ("outbox.cleanup.table", "public.outbox"),
                ("outbox.cleanup.interval.ms", "200"),
                ("outbox.cleanup.batch.size", "1000"),
            ],
        )
        .await;
    let sampler = Sampler::start(pg.conn_str(&bench.db));
    let began = now_ms();
    let writer = Writer::start_batched(
        pg,
        &bench.db,
        &bench.aggregate,
        5,
        TX_INTERVAL,
        Rng::new(rng.next_u64()),
        "JSONB",
        ROWS_PER_TX,
    );
    let mut faults = Vec::new();
    for i in 0..kills {
        let wait = rng.range(1500, 4000);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        ferry.kill9();
        let at = now_ms();
        faults.push(Fault {
            from_ms: at,
            at_ms: at,
            what: format!("kill -9 #{} after {wait} ms", i + 1),
        });
        ferry = bench.setup.spawn();
    }
    ferry.wait_ready();
    wait_state(
        &ferry,
        bench.connector,
        "RUNNING",
        &["RUNNING"],
        Duration::from_secs(60),
    )
    .await;
    let steady_from = now_ms();
    tokio::time::sleep(STEADY).await;
    let sent = writer.stop().await;
    let wrote_ms = now_ms() - began;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let samples = sampler.stop().await;

    let committed: Vec<Committed> = c
        .query(
            "SELECT id::text, aggregate_id, (payload->>'seq')::bigint, (payload->>'txid')::bigint \
             FROM outbox_log WHERE aggregate_type = $1",
            &[&bench.aggregate],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|r| Committed {
            id: r.get(0),
            key: r.get(1),
            seq: r.get(2),
            txid: r.get(3),
        })
        .collect();
    let deleted: Vec<(i64, i64)> = c
        .query("SELECT txid, deleted_ms FROM outbox_deleted", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let final_rows: i64 = c
        .query_one("SELECT count(*) FROM outbox", &[])
        .await
        .unwrap()
        .get(0);
    eprintln!(
        "[{scenario}] writer tried {} rows, {} committed, {} deleted by the cleanup, {} left",
        sent.len(),
        committed.len(),
        deleted.len(),
        final_rows
    );
    let topic = bench.topic();
    let offsets_topic = bench.setup.offsets_topic();
    let (result, offsets_typed) = tokio::task::block_in_place(|| {
        let offsets = stored_offsets(broker, &offsets_topic, bench.connector);
        let typed = stored_offsets_with_type(broker, &offsets_topic, bench.connector);
        let history = History {
            committed: &committed,
            sent: &sent,
            faults: &faults,
            offsets: &offsets,
        };
        (
            check(scenario, broker, &topic, &history, Duration::from_secs(90)),
            typed,
        )
    });
    let early = deleted_before_stored(&deleted, &offsets_typed);
    let mut steady: Vec<i64> = samples
        .iter()
        .filter(|s| s.0 >= steady_from && s.0 <= steady_from + STEADY.as_millis() as i64)
        .map(|s| s.1)
        .collect();
    steady.sort_unstable();
    let timeline: Vec<String> = samples
        .iter()
        .step_by(4)
        .map(|s| format!("{}:{}", (s.0 - began) / 1000, s.1))
        .collect();
    eprintln!("[{scenario}] outbox rows by second: {}", timeline.join(" "));
    let figures = CleanupFigures {
        figures: result.clone().unwrap_or_default(),
        rows_per_s: committed.len() as f64 * 1000.0 / wrote_ms.max(1) as f64,
        deleted: deleted.len(),
        deleted_early: early.len(),
        max_rows: samples.iter().map(|s| s.1).max().unwrap_or(0),
        steady_max_rows: steady.last().copied().unwrap_or(0),
        steady_median_rows: steady.get(steady.len() / 2).copied().unwrap_or(0),
        final_rows,
        samples: samples.len(),
    };
    eprintln!("{figures}");
    if let Ok(path) = std::env::var("FERRY_FAULTS_FIGURES") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{figures}");
        }
    }
    let mut problems = Vec::new();
    if let Err(e) = result {
        problems.push(e);
    }
    if !early.is_empty() {
        problems.push(format!(
            "DELETED BEFORE STORED: {} rows, e.g. (txid, deleted at ms) {:?}",
            early.len(),
            &early[..early.len().min(10)]
        ));
    }
    drop(ferry);
    bench.drop_slot().await;
    if problems.is_empty() {
        Ok(figures)
    } else {
        Err(format!("{figures}\n{}", problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delete_must_follow_an_offset_past_the_row() {
        let offsets = vec![(100, 10, "INSERT".to_owned()), (200, 12, "COMMIT".to_owned())];
        // Deleted at 150: only transactions before 10 are covered.
        assert!(deleted_before_stored(&[(9, 150)], &offsets).is_empty());
        assert_eq!(deleted_before_stored(&[(10, 150)], &offsets), [(10, 150)]);
        // Deleted at 250: 12 is covered by its COMMIT.
        assert!(deleted_before_stored(&[(12, 250)], &offsets).is_empty());
        assert_eq!(deleted_before_stored(&[(13, 250)], &offsets), [(13, 250)]);
        // Nothing stored yet.
        assert_eq!(deleted_before_stored(&[(1, 50)], &offsets), [(1, 50)]);
    }
}
