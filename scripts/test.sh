#!/usr/bin/env bash
# The test suite, as .ci/run runs it once the tools are installed:
#   1. every crate's unit and integration tests, the fault suite included;
#   2. the cargo-fuzz targets (pgoutput decoder, JsonConverter reader), 30 s each;
#   3. the REST API fuzzed with schemathesis from api-spec/openapi.yaml, 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
scripts/fuzz.sh "${FERRY_FUZZ_SECS:-30}"
scripts/fuzz-rest.sh "${FERRY_FUZZ_REST_SECS:-60}"
