#!/usr/bin/env bash
# The outbox demo in one command (see README.md beside this file):
#   examples/outbox/demo.sh [--no-namespace] [--keep-running]
# Installs what a fresh machine lacks (PostgreSQL 15's server, iproute2/util-linux for the
# private namespace; the demo itself installs Tansu), then runs the demo.
set -euo pipefail
cd "$(dirname "$0")/../.."

install_debian() {
  if [ "$(id -u)" != 0 ]; then
    echo "  missing: $*; install them with: sudo apt-get install -y $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "$@" >/dev/null
}

if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
  echo "[setup] PostgreSQL 15 server: installed"
else
  echo "[setup] PostgreSQL 15 server: installing from Debian packages (postgresql-15)"
  install_debian postgresql-15
fi
if command -v ip >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; then
  echo "[setup] ip and unshare: installed"
else
  echo "[setup] ip and unshare: installing (iproute2, util-linux)"
  install_debian iproute2 util-linux
fi

exec cargo run --quiet -p outbox-lab --bin demo -- "$@"
