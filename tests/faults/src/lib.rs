//! Ferry's fault-injection suite: the real `ferry` binary, a real PostgreSQL 15 cluster and
//! a real Tansu broker, with faults injected from outside (signals, `pg_ctl`, SQL).
//!
//! How the suite finds the binary: [`bin::ferry_bin`] runs `cargo build -p ferry
//! --message-format=json` once per test process and takes the executable's path from
//! cargo's JSON (set `FERRY_BIN` to use a prebuilt binary instead). `env!("CARGO_BIN_EXE_ferry")`
//! only exists inside the `ferry` package, so this package cannot use it.
//!
//! Every scenario draws its randomness from [`rng::Rng`] seeded from `FERRY_FAULTS_SEED`
//! (or the clock) and prints the seed first, so a failure can be replayed.

pub mod bin;
pub mod broker;
pub mod outbox;
pub mod pg;
pub mod proc;
pub mod rng;
pub mod scenarios;

/// Wall-clock milliseconds since the epoch (comparable with Kafka record timestamps).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A name unique to this process and moment (for topics, databases, slots).
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}_{}_{nanos}", std::process::id())
}
