//! The long kill -9 soak: `scripts/soak.sh` (or `cargo run -p ferry-faults --bin ferry-soak`).
//! `FERRY_SOAK_KILLS` (default 200) kills in rounds of 25, each round a fresh connector,
//! checked like the test; `FERRY_FAULTS_SEED` replays a round's randomness.

use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;

fn main() {
    let total: usize = std::env::var("FERRY_SOAK_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pg = PgCluster::start();
    let broker = Tansu::start();
    let mut done = 0;
    let mut failures = 0;
    let (mut rows, mut dups, mut bound) = (0, 0, 0);
    while done < total {
        let kills = 25.min(total - done);
        match rt.block_on(ferry_faults::scenarios::kill9("soak", kills, &pg, &broker)) {
            Ok(f) => {
                rows += f.rows;
                dups += f.duplicates;
                bound += f.bound;
            }
            Err(e) => {
                failures += 1;
                eprintln!("ROUND FAILED:\n{e}");
            }
        }
        done += kills;
        eprintln!("soak: {done}/{total} kills, {rows} rows checked, {dups} duplicates (bound {bound}), {failures} failed rounds");
    }
    if failures > 0 {
        std::process::exit(1);
    }
}
