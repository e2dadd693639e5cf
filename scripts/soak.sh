#!/usr/bin/env bash
# The long kill -9 soak (not part of the test suite): FERRY_SOAK_KILLS kills (default 200)
# in rounds of 25 against a private PostgreSQL and Tansu, each round checked like the
# kill -9 fault test. FERRY_FAULTS_SEED replays a round's randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p ferry --locked
exec cargo run -p ferry-faults --bin ferry-soak --locked
