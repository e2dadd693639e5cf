#!/usr/bin/env bash
# Fuzzes Ferry's REST API from api-spec/openapi.yaml with schemathesis, for SECONDS (default 60).
#
#   scripts/fuzz-rest.sh [SECONDS]
#
# Builds `ferry`, starts a private Tansu broker and `ferry distributed` on free ports in a
# temporary directory, creates one FileStreamSource connector for path parameters to hit,
# then runs schemathesis twice within the budget (examples, coverage and fuzzing; then
# stateful tests along the spec's links) with the check `connect_server_error` from
# scripts/fuzz_rest_hooks.py: any 5xx fails except Kafka Connect's own 500 for a body it
# cannot deserialize, and so does a request that hangs for 20 s. Afterwards the worker must
# still serve (GET /connectors 200, the connector's status 200, /health 200, process alive,
# no panic). Exits non-zero on any failure; everything it started is stopped on exit,
# Ctrl-C included. Logs stay in the temporary directory when something failed (its path is
# printed). Takes about SECONDS + 20-30 s once ferry is built.
#
# Needs: python3 with schemathesis==$SCHEMATHESIS_VERSION, tansu (TANSU_BIN or PATH or
# ~/.cargo/bin), cargo. Environment: FUZZ_SEED (schemathesis --seed), FUZZ_WORKERS (1),
# FUZZ_KEEP=1 (keep the temporary directory after a pass), FUZZ_VCR=1 (also record every
# request and response in report/*.yaml), PYTHON (python3),
# CARGO_TARGET_DIR (as cargo uses it).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
BUDGET=${1:-60}
if ! [[ $BUDGET =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]   (SECONDS: a positive whole number, default 60)" >&2
  exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPEC=$ROOT/api-spec/openapi.yaml
HOOKS=$ROOT/scripts/fuzz_rest_hooks.py
PYTHON=${PYTHON:-python3}
# One worker: with two, CPython 3.11.7's ast.parse (used by hypothesis from several threads)
# fails now and then with "AST constructor recursion depth mismatch" (CPython gh-106905).
WORKERS=${FUZZ_WORKERS:-1}
CONNECTOR=fuzz-file-source

log() { printf '[fuzz-rest] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- tools -----------------------------------------------------------------------------
installed=$("$PYTHON" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)
if [[ $installed != "$SCHEMATHESIS_VERSION" ]]; then
  die "schemathesis ${installed:-is not installed}${installed:+ is installed}; this script expects ${SCHEMATHESIS_VERSION}: pip install schemathesis==${SCHEMATHESIS_VERSION}"
fi
TANSU=${TANSU_BIN:-$(command -v tansu || true)}
[[ -z $TANSU && -x $HOME/.cargo/bin/tansu ]] && TANSU=$HOME/.cargo/bin/tansu
[[ -n $TANSU ]] || die "tansu not found: cargo install tansu --version 0.6.0 --locked --features dynostore"
command -v curl >/dev/null || die "curl not found"

log "building ferry"
(cd "$ROOT" && cargo build -p ferry --locked --quiet)
TARGET_DIR=${CARGO_TARGET_DIR:-$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
[[ $TARGET_DIR = /* ]] || TARGET_DIR=$ROOT/$TARGET_DIR
FERRY=$TARGET_DIR/debug/ferry
[[ -x $FERRY ]] || die "no ferry binary at $FERRY"

# --- processes and clean-up --------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fuzz-rest.XXXXXX")
TANSU_PID=
FERRY_PID=
ST_PID=
SUCCESS=0

stop_pid() { # pid name
  local pid=$1 name=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.2
  done
  log "$name did not stop within 10 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_pid "$ST_PID" schemathesis
  stop_pid "$FERRY_PID" ferry
  stop_pid "$TANSU_PID" tansu
  if [[ $SUCCESS == 1 && $rc == 0 && -z ${FUZZ_KEEP:-} ]]; then
    rm -rf "$WORK"
  else
    log "logs and reports kept in $WORK (ferry.log, tansu.log, fuzzing.out, stateful.out, report/)"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT
trap 'log terminated; exit 143' TERM
trap 'log hung up; exit 129' HUP

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# http METHOD PATH [BODY] -> prints the status, body in $WORK/last.json
http() {
  local args=(-sS -o "$WORK/last.json" -w '%{http_code}' --max-time 30 -X "$1" "$BASE$2")
  [[ $# -ge 3 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" 2>>"$WORK/curl.err" || echo 000
}

ferry_alive() { kill -0 "$FERRY_PID" 2>/dev/null; }

# --- broker ------------------------------------------------------------------------------
KAFKA_PORT=$(free_port)
log "starting tansu on 127.0.0.1:$KAFKA_PORT"
# Broker and worker get their own sessions: Ctrl-C reaches schemathesis and this script,
# whose EXIT trap then stops them in order.
setsid "$TANSU" broker \
  --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
  --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
  --storage-engine memory://tansu/ \
  </dev/null >"$WORK/tansu.log" 2>&1 &
TANSU_PID=$!
wait_port "$KAFKA_PORT" 20 || die "tansu did not listen on $KAFKA_PORT (see $WORK/tansu.log)"

# --- worker ------------------------------------------------------------------------------
REST_PORT=$(free_port)
BASE=http://127.0.0.1:$REST_PORT
ID=fuzz-$$-$RANDOM
# The tests' Tansu settings (crates/ferry/tests/common/mod.rs, WorkerSetup).
cat >"$WORK/worker.properties" <<EOF
bootstrap.servers=127.0.0.1:$KAFKA_PORT
group.id=$ID-group
config.storage.topic=$ID-configs
offset.storage.topic=$ID-offsets
status.storage.topic=$ID-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.flush.interval.ms=500
listeners=http://127.0.0.1:$REST_PORT
batch.num.messages=1
EOF
log "starting ferry distributed on $BASE"
(cd "$WORK" && RUST_LOG=${RUST_LOG:-info} exec setsid "$FERRY" distributed "$WORK/worker.properties" \
  </dev/null >"$WORK/ferry.log" 2>&1) &
FERRY_PID=$!
deadline=$((SECONDS + 90))
until [[ $(http GET /health) == 200 ]]; do
  ferry_alive || die "ferry exited during start-up; last log lines:$(printf '\n'; tail -n 30 "$WORK/ferry.log")"
  ((SECONDS < deadline)) || die "ferry did not answer GET /health within 90 s (see $WORK/ferry.log)"
  sleep 0.2
done

# --- a real connector --------------------------------------------------------------------
INPUT=$WORK/input.txt
TOPIC=$ID-lines
printf 'line %s\n' 1 2 3 >"$INPUT"
status=$(http POST /connectors "{\"name\":\"$CONNECTOR\",\"config\":{\"connector.class\":\"org.apache.kafka.connect.file.FileStreamSourceConnector\",\"tasks.max\":\"1\",\"file\":\"$INPUT\",\"topic\":\"$TOPIC\"}}")
[[ $status == 201 ]] || die "creating $CONNECTOR answered $status: $(cat "$WORK/last.json")"
deadline=$((SECONDS + 30))
until [[ $(http GET "/connectors/$CONNECTOR/status") == 200 ]] && grep -q '"RUNNING"' "$WORK/last.json"; do
  ((SECONDS < deadline)) || die "$CONNECTOR did not report RUNNING within 30 s: $(cat "$WORK/last.json")"
  sleep 0.2
done
log "connector $CONNECTOR is RUNNING"

# --- schemathesis ------------------------------------------------------------------------
# Two bounded runs: examples, coverage and fuzzing for two thirds of the budget, then
# stateful tests (chains along the spec's links, e.g. create -> status/stop/offsets/delete)
# for the rest. In one run the fuzzing phase leaves stateful testing almost no time.
STATEFUL_BUDGET=$((BUDGET / 3))
FUZZ_BUDGET=$((BUDGET - STATEFUL_BUDGET))
st_failed=()

run_schemathesis() { # name phases seconds
  local name=$1 phases=$2 seconds=$3 rc=0
  local args=(
    run "$SPEC"
    --url "$BASE"
    --phases "$phases"
    --max-time "$seconds"
    # Few examples per operation and pass: every operation gets its turn early, passes
    # repeat until --max-time, and the pass running at the deadline ends soon after it.
    --max-examples 25
    --workers "$WORKERS"
    --checks connect_server_error
    --request-timeout 20
    --generation-database none
    --suppress-health-check all
    --report "json${FUZZ_VCR:+,vcr}" --report-dir "$WORK/report"
    --report-json-path "$WORK/report/$name.json" --report-vcr-path "$WORK/report/$name.vcr.yaml"
    --no-color
  )
  [[ -n ${FUZZ_SEED:-} ]] && args+=(--seed "$FUZZ_SEED")
  log "schemathesis $SCHEMATHESIS_VERSION: $phases for ${seconds} s"
  # schemathesis stops itself at --max-time; `timeout` is the backstop for a hanging request.
  # It runs in the background so that Ctrl-C runs the INT trap at once (bash would not run it
  # for a foreground command that handles SIGINT itself, as schemathesis does).
  (cd "$WORK" && SCHEMATHESIS_HOOKS=$HOOKS FERRY_FUZZ_CONNECTOR=$CONNECTOR FERRY_FUZZ_FILE=$INPUT \
    FERRY_FUZZ_TOPIC=$TOPIC exec timeout --kill-after=10 $((seconds + 30)) \
    "$PYTHON" -m schemathesis.cli "${args[@]}") >"$WORK/$name.out" 2>&1 &
  ST_PID=$!
  wait "$ST_PID" || rc=$?
  ST_PID=
  if ((rc == 0)); then
    awk '/(Examples|Coverage|Fuzzing|Stateful) \(in / { p = 1 } /^=+ / { p = 0 } p && NF' "$WORK/$name.out" >&2
  else
    cut -c1-400 "$WORK/$name.out" | tail -n 150 >&2
    st_failed+=("schemathesis ($phases) exited with $rc; see $WORK/$name.out")
  fi
}

run_schemathesis fuzzing examples,coverage,fuzzing "$FUZZ_BUDGET"
if ((STATEFUL_BUDGET > 0)) && ferry_alive; then
  run_schemathesis stateful stateful "$STATEFUL_BUDGET"
fi

# --- the worker must still serve -----------------------------------------------------------
problems=("${st_failed[@]}")
kill -0 "$TANSU_PID" 2>/dev/null || problems+=("tansu exited (see $WORK/tansu.log)")
if ! ferry_alive; then
  problems+=("ferry exited (see $WORK/ferry.log)")
else
  s=$(http GET /connectors)
  [[ $s == 200 ]] || problems+=("GET /connectors answered $s")
  s=$(http GET "/connectors/$CONNECTOR/status")
  [[ $s == 200 ]] || problems+=("GET /connectors/$CONNECTOR/status answered $s: $(cat "$WORK/last.json")")
  s=$(http GET /health)
  [[ $s == 200 ]] || problems+=("GET /health answered $s: $(cat "$WORK/last.json")")
fi
if grep -q "panicked at" "$WORK/ferry.log"; then
  problems+=("ferry logged a panic: $(grep -m1 -A2 'panicked at' "$WORK/ferry.log" | tr '\n' ' ')")
fi

# --- summary -------------------------------------------------------------------------------
summary=$("$PYTHON" - "$WORK"/report/{fuzzing,stateful}.json <<'EOF' || true
import json, os, sys
tested, selected, cases, failures, errors, lines = [], 0, 0, 0, 0, []
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    r = json.load(open(path))
    name = os.path.basename(path).removesuffix(".json")
    ops = r["operations"]
    selected = max(selected, ops["selected"])
    tested.append((name, ops["tested"]))
    cases += r["test_cases"]["generated"]
    failures += sum(f["count"] for f in r["failures"])
    errors += sum(e["count"] for e in r["errors"])
    for f in r["failures"]:
        lines.append(f"  {name} failure: {f['title']} x{f['count']} in {', '.join(f['operations'])}")
    for e in r["errors"]:
        lines.append(f"  {name} error: {e['title']} x{e['count']}")
if not tested:
    print("no schemathesis report")
    sys.exit(0)
per_run = ", ".join(f"{n} {t}/{selected}" for n, t in tested)
print(f"operations tested: {per_run}; examples run: {cases}; failures: {failures}; errors: {errors}")
print("\n".join(lines), end="")
EOF
)
echo "fuzz-rest summary: $summary"
if ((${#problems[@]})); then
  for p in "${problems[@]}"; do echo "fuzz-rest FAILED: $p"; done
  exit 1
fi
echo "fuzz-rest passed"
SUCCESS=1
