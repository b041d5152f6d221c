#!/usr/bin/env bash
# The Swift tests of the iOS package (ios/DoorstepKit) on Linux: generates the bindings from
# the host-built library, puts them where the package expects them (ios/DoorstepKit/Generated,
# not committed), and runs `swift test` inside the Debian trixie root of scripts/install-swift.sh,
# against the real library and a real sync server on 127.0.0.1 (the root shares the host's
# network). /proc, /dev, the repository and the target folder are mounted into the root at the
# same paths for the run and unmounted afterwards, also when a test fails or the run is stopped;
# what a killed run left (tests, servers, mounts) is stopped and removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/workspace.sh
repo="$(pwd)"

ROOT="$(scripts/install-swift.sh | tail -n 1)"
# One run at a time per root (they share its mounts and ios/DoorstepKit/Generated); the lock
# goes when this process does.
exec 9>"$ROOT.lock"
flock 9
scripts/bindings.sh
cargo build --quiet "${WORKSPACE[@]}" "${AS_TESTED[@]}" --bin doorstep-sync-server
target="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)"

generated=ios/DoorstepKit/Generated
rm -rf "$generated"
for module in DoorstepCore Doorstep; do
  mkdir -p "$generated/Doorstep" "$generated/${module}FFI"
  # One Swift module for both: the store's bindings use the core's types without an import.
  cp "$target/bindings/swift/$module.swift" "$generated/Doorstep/"
  cp "$target/bindings/swift/${module}FFI.h" "$generated/${module}FFI/"
  cp "$target/bindings/swift/${module}FFI.modulemap" "$generated/${module}FFI/module.modulemap"
done

mounts=("$ROOT/proc" "$ROOT/dev" "$ROOT$repo")
case "$target/" in
  "$repo"/*) ;;
  *) mounts+=("$ROOT$target") ;;
esac

# Unmounts in reverse order; a mount still busy (a process left from a killed run) is detached.
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    if mountpoint -q "${mounts[i]}"; then
      umount "${mounts[i]}" 2>/dev/null || umount --lazy "${mounts[i]}"
    fi
  done
}

# Stops every process running inside the root: the tests and the servers they started (in
# process groups of their own), also those left by a killed run.
# shellcheck disable=SC2317
stop_root_processes() {
  local proc
  for proc in /proc/[0-9]*; do
    if [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ]; then kill -9 "${proc#/proc/}" 2>/dev/null || true; fi
  done
}

stop_root_processes
unmount_all
# shellcheck disable=SC2317
trap 'stop_root_processes; unmount_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
for ((i = 2; i < ${#mounts[@]}; i++)); do
  source_dir="${mounts[i]#"$ROOT"}"
  mkdir -p "${mounts[i]}"
  mount --bind "$source_dir" "${mounts[i]}"
done

echo "== swift test (ios/DoorstepKit, in $ROOT)" >&2
lib="$target/debug"
start=$SECONDS
# Waited for in the background, so that a signal reaches the trap at once; without the lock.
chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
  DOORSTEP_SERVER="$lib/doorstep-sync-server" \
  swift test --package-path "$repo/ios/DoorstepKit" --scratch-path "$target/swift" \
  -Xlinker -L"$lib" -Xlinker -rpath -Xlinker "$lib" "$@" 9>&- &
status=0
wait "$!" || status=$?
echo "swift test finished in $((SECONDS - start)) s" >&2
exit "$status"
