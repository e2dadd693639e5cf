#!/usr/bin/env bash
# The test suite, from a fresh machine of this kind to the last check:
#   0. scripts/setup.sh installs what is missing (PostgreSQL 15, ip/unshare, curl, Tansu,
#      cargo-fuzz, schemathesis), a progress line per step;
#   1. every crate's unit and integration tests, the fault suite included;
#   2. the cargo-fuzz targets (pgoutput decoder, JsonConverter reader), 30 s each;
#   3. the REST API fuzzed with schemathesis from api-spec/openapi.yaml, 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
scripts/setup.sh
echo "[test] cargo test --workspace --locked (the first build takes several minutes)"
cargo test --workspace --locked
scripts/fuzz.sh "${FERRY_FUZZ_SECS:-30}"
scripts/fuzz-rest.sh "${FERRY_FUZZ_REST_SECS:-60}"
