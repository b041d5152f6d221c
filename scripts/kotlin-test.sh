#!/usr/bin/env bash
# The Kotlin (JVM) tests: generates the bindings from the host-built library, compiles them
# with the app's shared module (android/shared) and its tests using kotlinc, and runs the tests
# on the JVM with JNA against the real library and a real sync server on 127.0.0.1.
#
# With --bench, runs the bindings benchmark (android/shared/src/bench) against the release
# library and server instead of the tests. With --compile, only builds and compiles (the
# Compose UI tests, scripts/compose-test.sh, run over these classes).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/workspace.sh
. scripts/kotlinc-cache.sh

bench=false
compile_only=false
[ "${1:-}" = "--bench" ] && bench=true
[ "${1:-}" = "--compile" ] && compile_only=true

KOTLIN_HOME="$(scripts/install-kotlin.sh)"
scripts/bindings.sh
profile=debug
if $bench; then
  profile=release
  cargo build --quiet --release -p doorstep-ffi --lib
  cargo build --quiet --release -p doorstep-sync-server --bin doorstep-sync-server
else
  cargo build --quiet "${WORKSPACE[@]}" "${AS_TESTED[@]}" --bin doorstep-sync-server
fi

target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"
classes="$target/kotlin-classes"
lib="$KOTLIN_HOME/lib"
deps="/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$lib/kotlin-test.jar:$lib/kotlin-test-junit.jar"
# The benchmark is compiled on every run so that it keeps up with the code it measures.
sources=(android/shared/src/main/kotlin android/shared/src/test/kotlin android/shared/src/bench/kotlin)

inputs="$(input_hash "$KOTLIN_HOME $deps" "$target/bindings/kotlin" "${sources[@]}")"
kotlinc_cached "$classes" "$inputs" "bindings, ${sources[*]}" \
  "$KOTLIN_HOME/bin/kotlinc-jvm" -nowarn -jvm-target 17 -classpath "$deps" "$target/bindings/kotlin" "${sources[@]}"

$compile_only && exit 0

run=(java -Djna.library.path="$target/$profile"
  -Ddoorstep.server="$target/$profile/doorstep-sync-server"
  -cp "$classes:$lib/kotlin-stdlib.jar:$deps")
if $bench; then
  "${run[@]}" cn.doorstep.app.BindingsBenchmark
else
  tests=$(cd android/shared/src/test/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
  echo "== JUnit: $(echo "$tests" | wc -l) test classes" >&2
  # shellcheck disable=SC2086
  "${run[@]}" org.junit.runner.JUnitCore $tests
fi
