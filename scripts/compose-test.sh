#!/usr/bin/env bash
# The Android app's Compose screens (android/ui) compiled and driven on the JVM: Compose
# Multiplatform's desktop artifacts stand in for AndroidX's (the same APIs: runtime, foundation,
# material3, ui), resolved with Maven from android/ui/pom.xml. The UI tests
# (android/ui/src/test) run headless with JUnit over a real store and a real sync server on
# 127.0.0.1, and save a phone-size screenshot of each screen in target/screenshots/android/.
#
# Runs over the classes of scripts/kotlin-test.sh (the bindings, android/shared and its test
# helpers), compiled first if they are not current.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/workspace.sh
. scripts/kotlinc-cache.sh

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
# apt-get install, with `apt-get update` only when the package lists are too old or missing.
apt_install() {
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2; then
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2
  fi
}
if ! command -v mvn >/dev/null 2>&1; then
  echo "== apt: maven" >&2
  apt_install maven
fi
# A Chinese font for the screenshots (skia finds it through fontconfig).
if ! command -v fc-list >/dev/null 2>&1 || ! fc-list :lang=zh | grep -q .; then
  echo "== apt: fontconfig, fonts-noto-cjk (no Chinese font installed)" >&2
  apt_install fontconfig fonts-noto-cjk
fi

KOTLIN_HOME="$(scripts/install-kotlin.sh)"
scripts/kotlin-test.sh --compile

target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"
lib="$KOTLIN_HOME/lib"
shared="$target/kotlin-classes"
classes="$target/compose-classes"

# The jars, copied once per version of the pom (a second run asks Maven for nothing). The
# Kotlin standard library is kotlinc's own.
pom=android/ui/pom.xml
jars="$HOME/.cache/doorstep/compose-jars-$(sha256sum "$pom" | cut -c1-16)"
if [ ! -f "$jars/.complete" ]; then
  echo "== mvn: the Compose Multiplatform desktop jars of $pom into $jars" >&2
  rm -rf "$jars"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$jars" \
    -DexcludeArtifactIds=kotlin-stdlib,kotlin-stdlib-common,kotlin-stdlib-jdk7,kotlin-stdlib-jdk8
  touch "$jars/.complete"
fi
deps="$(find "$jars" -name '*.jar' | sort | tr '\n' ':')/usr/share/java/jna.jar:$lib/kotlin-test.jar:$lib/kotlin-test-junit.jar"

# The compiler's own Compose plugin (kotlinc's lib/compose-compiler-plugin.jar) is the one
# built for this very compiler; the -embeddable artifact on Maven Central is for the shaded
# compiler that Gradle embeds.
plugin="$lib/compose-compiler-plugin.jar"
sources=(android/ui/src/main/kotlin android/ui/src/test/kotlin)
inputs="$(input_hash "$KOTLIN_HOME $deps $(cat "$shared/.doorstep-inputs")" "${sources[@]}")"
kotlinc_cached "$classes" "$inputs" "(Compose plugin) ${sources[*]}" \
  "$KOTLIN_HOME/bin/kotlinc-jvm" -nowarn -jvm-target 17 -Xplugin="$plugin" -classpath "$shared:$deps" "${sources[@]}"

shots="$target/screenshots/android"
# Only this run's screenshots (a failing test leaves failed-TEST.png).
rm -rf "$shots"
mkdir -p "$shots"
tests=$(cd android/ui/src/test/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
echo "== JUnit (Compose UI): $(echo "$tests" | wc -l) test classes, screenshots in $shots" >&2
# shellcheck disable=SC2086
java -Djava.awt.headless=true -Djna.library.path="$target/debug" \
  -Ddoorstep.server="$target/debug/doorstep-sync-server" -Ddoorstep.screenshots="$shots" \
  -cp "$classes:$shared:$lib/kotlin-stdlib.jar:$deps" org.junit.runner.JUnitCore $tests
