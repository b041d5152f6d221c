#!/usr/bin/env bash
# Builds the bindings library (debug, for the host) and generates its Kotlin and Swift sources
# from it into target/bindings/{kotlin,swift}. Run again after every rebuild of the library:
# stale sources fail at load time with "UniFFI API checksum mismatch".
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/workspace.sh

target="${CARGO_TARGET_DIR:-target}"
echo "== building uniffi-bindgen and the doorstep-ffi library" >&2
# Built within the workspace with the features of scripts/workspace.sh, as scripts/test.sh
# builds it, so both come from the one build (`-p doorstep-ffi` alone, or another feature set,
# would unify features differently and build uniffi, the core and what is over it again).
cargo build --quiet "${WORKSPACE[@]}" "${AS_TESTED[@]}" --bin uniffi-bindgen --lib

out="$target/bindings"
rm -rf "$out"
"$target/debug/uniffi-bindgen" generate --library "$target/debug/libdoorstep_ffi.so" \
  --language kotlin --no-format --out-dir "$out/kotlin"
"$target/debug/uniffi-bindgen" generate --library "$target/debug/libdoorstep_ffi.so" \
  --language swift --no-format --out-dir "$out/swift"
echo "generated $out/kotlin and $out/swift" >&2
