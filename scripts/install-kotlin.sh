#!/usr/bin/env bash
# Installs what the Kotlin (JVM) tests need, once per machine: the Kotlin compiler from the npm
# registry (package kotlin-compiler), and JNA and JUnit 4 from Debian. Prints the compiler's folder.
set -euo pipefail

KOTLIN_VERSION=2.4.20
TOOLS="${DOORSTEP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/doorstep}"
KOTLIN_HOME="$TOOLS/kotlin-compiler-$KOTLIN_VERSION"

if [ ! -f /usr/share/java/jna.jar ] || [ ! -f /usr/share/java/junit4.jar ]; then
  echo "installing JNA and JUnit 4 (libjna-java, libjna-jni, junit4) from Debian" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libjna-java libjna-jni junit4 >&2
fi

if ! command -v java >/dev/null 2>&1; then
  echo "java (OpenJDK 17) is required to run the Kotlin tests" >&2
  exit 1
fi

if [ ! -x "$KOTLIN_HOME/bin/kotlinc-jvm" ]; then
  echo "installing kotlin-compiler@$KOTLIN_VERSION from the npm registry into $KOTLIN_HOME" >&2
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null && tar xzf kotlin-compiler-*.tgz)
  chmod +x "$work/package/bin/"*
  mkdir -p "$TOOLS"
  rm -rf "$KOTLIN_HOME"
  mv "$work/package" "$KOTLIN_HOME"
  rm -rf "$work"
fi

echo "$KOTLIN_HOME"
