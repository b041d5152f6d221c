#!/usr/bin/env bash
# Builds the bindings library (debug, for the host) and generates its Kotlin and Swift sources
# from it into target/bindings/{kotlin,swift}. Run again after every rebuild of the library:
# stale sources fail at load time with "UniFFI API checksum mismatch".
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
echo "== building uniffi-bindgen and the doorstep-ffi library" >&2
# Built within the workspace, as scripts/test.sh builds it: `-p doorstep-ffi` alone would unify
# features differently and build most dependencies a second time.
cargo build --quiet --workspace --features doorstep-ffi/cli --bin uniffi-bindgen
# Rebuilt without the cli feature: the library the tests and apps load.
cargo build --quiet --workspace --lib

out="$target/bindings"
rm -rf "$out"
"$target/debug/uniffi-bindgen" generate --library "$target/debug/libdoorstep_ffi.so" \
  --language kotlin --no-format --out-dir "$out/kotlin"
"$target/debug/uniffi-bindgen" generate --library "$target/debug/libdoorstep_ffi.so" \
  --language swift --no-format --out-dir "$out/swift"
echo "generated $out/kotlin and $out/swift" >&2
