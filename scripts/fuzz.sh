#!/usr/bin/env bash
# Runs each cargo-fuzz target (fuzz/) for a bounded time: the pgoutput decoder and the
# JsonConverter reader. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] (default 30).
# Exits non-zero, naming the crashing input, when a target panics.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). It runs on the stable
# toolchain: RUSTC_BOOTSTRAP=1 allows the instrumentation flags cargo-fuzz passes, and
# `--sanitizer none` skips AddressSanitizer (the code under test is safe Rust; panics,
# overflows and out-of-bounds slicing are what the targets look for).
set -euo pipefail
secs="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 2
fi
export RUSTC_BOOTSTRAP=1
cd "$root/fuzz"
echo "==> building the fuzz targets"
cargo fuzz build --sanitizer none
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for target in pgoutput_decode json_converter_read; do
  corpus="$work/corpus-$target"
  artifacts="$work/artifacts-$target/"
  mkdir -p "$corpus" "$artifacts"
  cp "corpus/$target/"* "$corpus/"
  log="$work/$target.log"
  if cargo fuzz run --sanitizer none "$target" "$corpus" -- \
      -max_total_time="$secs" -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1; then
    runs="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1)"
    echo "fuzz $target: ok (${runs:-finished}, corpus $(ls "$corpus" | wc -l) inputs)"
  else
    failed=1
    echo "fuzz $target: FAILED" >&2
    grep -E "panicked at|Test unit written" -A2 "$log" >&2 || tail -40 "$log" >&2
    for crash in "$artifacts"*; do
      [ -e "$crash" ] || continue
      keep="$root/fuzz/artifacts/$target/$(basename "$crash")"
      mkdir -p "$(dirname "$keep")"
      cp "$crash" "$keep"
      echo "crashing input kept in $keep (replay: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -s none $target $keep)" >&2
    done
  fi
done
exit "$failed"
