#!/usr/bin/env bash
# The outbox demo in one command (see README.md beside this file):
#   examples/outbox/demo.sh [--no-namespace] [--keep-running]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo run --quiet -p outbox-lab --bin demo -- "$@"
