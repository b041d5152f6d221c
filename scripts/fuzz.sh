#!/usr/bin/env bash
# Fuzzes what arrives from the network, each target for a fixed time (seconds, default 300):
#   scripts/fuzz.sh [seconds] [target ...]
# Targets: sync_request, enrollment, received_document (all by default). libFuzzer runs on
# stable Rust here: the targets are built with LLVM's coverage instrumentation (-Cpasses=
# sancov-module) and linked with libFuzzer by the libfuzzer-sys crate, into target/fuzz. The
# fuzzer starts from real requests and documents of a generated town and keeps its corpus in
# target/fuzz/corpus/<target>. An input that makes a target fail is kept in
# fuzz/regressions/<target>/, where the normal test run replays it: commit it with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(sync_request enrollment received_document)
fi
triple="$(rustc -vV | sed -n 's/^host: //p')"

echo "== building the fuzz targets (coverage-instrumented, release)"
RUSTFLAGS="-Cpasses=sancov-module \
  -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
  -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares \
  --cfg fuzzing -Cdebug-assertions -Coverflow-checks" \
  cargo build --release -p doorstep-fuzz --features libfuzzer \
  --bin fuzz-sync-request --bin fuzz-enrollment --bin fuzz-received-document \
  --target "$triple" --target-dir target/fuzz
cargo run --quiet -p doorstep-fuzz --bin fuzz-seeds -- target/fuzz/seeds

failed=()
for target in "${targets[@]}"; do
  exe="target/fuzz/$triple/release/fuzz-${target//_/-}"
  corpus="target/fuzz/corpus/$target"
  kept="fuzz/regressions/$target"
  mkdir -p "$corpus" "$kept"
  echo "== fuzzing $target for ${seconds}s"
  if ! "$exe" "$corpus" "target/fuzz/seeds/$target" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$kept/" -print_final_stats=1 2>"target/fuzz/$target.log"; then
    failed+=("$target")
    tail -n 40 "target/fuzz/$target.log"
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|cov: " "target/fuzz/$target.log" | tail -n 3
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found failures in: ${failed[*]}; the inputs are kept in fuzz/regressions/" >&2
  exit 1
fi
echo "no failures"
