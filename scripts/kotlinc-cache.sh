# Sourced by kotlin-test.sh and compose-test.sh. kotlinc takes minutes: its classes are kept in
# the target folder with a hash of everything they were compiled from (the compiler, the
# classpath, the sources), and compiled again only when that changes.

# input_hash TEXT PATH...: a hash of TEXT and of every file under the PATHs.
input_hash() {
  local text="$1"
  shift
  {
    echo "$text"
    find "$@" -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -d' ' -f1
}

# kotlinc_cached CLASSES HASH WHAT KOTLINC ARG...: runs KOTLINC ARG... -d CLASSES unless CLASSES
# holds classes compiled from inputs with the same HASH; WHAT says what is compiled, in the log.
kotlinc_cached() {
  local classes="$1" hash="$2" what="$3" start=$SECONDS
  shift 3
  if [ -f "$classes/.doorstep-inputs" ] && [ "$(cat "$classes/.doorstep-inputs")" = "$hash" ]; then
    echo "== kotlinc: $what unchanged, classes in $classes reused" >&2
    return
  fi
  echo "== kotlinc: $what" >&2
  rm -rf "$classes"
  "$@" -d "$classes"
  echo "$hash" >"$classes/.doorstep-inputs"
  echo "compiled in $((SECONDS - start)) s" >&2
}
