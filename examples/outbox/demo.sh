#!/usr/bin/env bash
# The outbox demo in one command (see README.md beside this file):
#   examples/outbox/demo.sh [--no-namespace] [--keep-running]
# Installs what a fresh machine lacks (scripts/setup.sh: PostgreSQL 15's server,
# iproute2/util-linux for the private namespace, Tansu), builds with progress, then runs the demo.
set -euo pipefail
cd "$(dirname "$0")/../.."

# PostgreSQL 15's server, ip/unshare for the private namespace, and the Tansu broker.
scripts/setup.sh postgres netns tansu

# The first build compiles a few hundred crates (several minutes on two cores): let cargo
# show its progress instead of minutes of silence.
echo "[setup] building ferry and the lab's programs (cargo build; the first build takes several minutes)"
cargo build -p ferry -p outbox-lab --bins

exec cargo run --quiet -p outbox-lab --bin demo -- "$@"
