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

# kotlinc takes minutes; its classes are kept in the target folder with a hash of everything
# they were compiled from (the compiler, the classpath, the generated bindings, the sources),
# and compiled again only when that changes.
inputs="$(
  {
    echo "$KOTLIN_HOME $deps"
    find "$target/bindings/kotlin" "${sources[@]}" -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
)"
if [ -f "$classes/.doorstep-inputs" ] && [ "$(cat "$classes/.doorstep-inputs")" = "$inputs" ]; then
  echo "== kotlinc: bindings and sources unchanged, classes in $classes reused" >&2
else
  echo "== kotlinc: bindings, ${sources[*]}" >&2
  rm -rf "$classes"
  start=$SECONDS
  "$KOTLIN_HOME/bin/kotlinc-jvm" -nowarn -jvm-target 17 -classpath "$deps" -d "$classes" \
    "$target/bindings/kotlin" "${sources[@]}"
  echo "$inputs" >"$classes/.doorstep-inputs"
  echo "compiled in $((SECONDS - start)) s" >&2
fi

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
