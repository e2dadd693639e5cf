//! Ferry's fault-injection suite: the real `ferry` binary, a real PostgreSQL 15 cluster and
//! a real Tansu broker, with faults injected from outside (signals, `pg_ctl`, SQL).
//!
//! The binary, its worker properties and process come from `ferry_test_support::worker`
//! (`ferry_bin` builds it once per test process; `FERRY_BIN` names a prebuilt one).
//!
//! Every scenario draws its randomness from [`rng::Rng`] seeded from `FERRY_FAULTS_SEED`
//! (or the clock) and prints the seed first, so a failure can be replayed.

pub mod broker;
pub mod cleanup;
pub mod group;
pub mod outbox;
pub mod pg;
pub mod proc;
pub mod rng;
pub mod rolling;
pub mod scenarios;

/// Wall-clock milliseconds since the epoch (comparable with Kafka record timestamps).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub use ferry_test_support::worker::unique;
