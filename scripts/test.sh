#!/usr/bin/env bash
# Installs what the tests need and runs them all: formatting, lints, every test of the
# workspace (unit, integration, property and crash tests; clippy also builds the benchmarks),
# the hub console in headless Chromium (tests/tests/console.rs, screenshots in target/screenshots),
# the server's cross-component tests again on a real PostgreSQL (Debian's postgresql, started
# on 127.0.0.1 in a temporary folder and stopped afterwards), the Kotlin tests of the app's
# shared module on the JVM over the generated bindings, and the Swift tests of the iOS package
# (Debian trixie's Swift in a root folder made once per machine).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (stable Rust 1.95)" >&2
  exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
# The core alone, without the uniffi feature the workspace build turns on.
cargo clippy -p doorstep-core --all-targets -- -D warnings
echo "== installing the browser (Debian's chromium, playwright-core)"
export DOORSTEP_CHROMIUM
DOORSTEP_CHROMIUM="$(scripts/install-browser.sh | tail -n 1)"
echo "== cargo test"
cargo test --workspace
echo "== the server's tests on PostgreSQL"
pg_dir="$(mktemp -d)"
trap 'scripts/postgres.sh stop "$pg_dir"' EXIT
pg_url="$(scripts/postgres.sh start "$pg_dir")"
# The cross-component tests by name within the workspace, so the build above is reused
# (`-p doorstep-tests` alone would unify features differently and build everything again).
pg_tests=()
for test_file in tests/tests/*.rs; do
  pg_tests+=(--test "$(basename "$test_file" .rs)")
done
DOORSTEP_TEST_POSTGRES="$pg_url" DOORSTEP_SCHEDULES=40 cargo test --workspace "${pg_tests[@]}"
scripts/postgres.sh stop "$pg_dir"
trap - EXIT
echo "== Kotlin (JVM) tests"
scripts/kotlin-test.sh
echo "== Swift tests"
scripts/swift-test.sh
