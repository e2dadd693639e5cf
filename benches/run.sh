#!/bin/sh
# Builds ferry and ferry-bench (release), then runs every benchmark scenario and rewrites
# BENCHMARKS.md. Extra arguments go to ferry-bench (see `ferry-bench --help`).
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p ferry -p ferry-bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/ferry-bench" --ferry-bin "$target/release/ferry" "$@"
