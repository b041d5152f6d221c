#!/usr/bin/env bash
# The Kotlin (JVM) tests: generates the bindings from the host-built library, compiles them
# with the app's shared module (android/shared) and its tests using kotlinc, and runs the tests
# on the JVM with JNA against the real library and a real sync server on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

KOTLIN_HOME="$(scripts/install-kotlin.sh)"
scripts/bindings.sh
cargo build --quiet -p doorstep-sync-server --bin doorstep-sync-server

target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"
classes="$target/kotlin-classes"
lib="$KOTLIN_HOME/lib"
deps="/usr/share/java/jna.jar:$lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$lib/kotlin-test.jar:$lib/kotlin-test-junit.jar"

echo "== kotlinc: bindings, android/shared and its tests" >&2
rm -rf "$classes"
start=$SECONDS
"$KOTLIN_HOME/bin/kotlinc-jvm" -nowarn -jvm-target 17 -classpath "$deps" -d "$classes" \
  "$target/bindings/kotlin" android/shared/src/main/kotlin android/shared/src/test/kotlin
echo "compiled in $((SECONDS - start)) s" >&2

tests=$(cd android/shared/src/test/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
echo "== JUnit: $(echo "$tests" | wc -l) test classes" >&2
java -Djna.library.path="$target/debug" \
  -Ddoorstep.server="$target/debug/doorstep-sync-server" \
  -cp "$classes:$lib/kotlin-stdlib.jar:$deps" \
  org.junit.runner.JUnitCore $tests
