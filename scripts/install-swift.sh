#!/usr/bin/env bash
# Installs the Swift toolchain for the iOS package's tests, once per machine: a Debian "trixie"
# root folder made with debootstrap, holding Debian's swiftlang (bookworm has no Swift, and
# trixie's needs a newer glibc). The root lives outside the repository so later runs reuse it;
# ca-certificates: the sync client (rustls) loads the system roots even for plain HTTP. The root
# is built beside its final place and renamed when complete, so an interrupted run is redone,
# never reused half-made. The Debian mirror is the one the host's apt already uses.
# Prints the root's path.
set -euo pipefail

ROOT="${DOORSTEP_SWIFT_ROOT:-/var/cache/doorstep-swift-root}"

# usr/bin/swift is an absolute link, valid only inside the root.
if [ -x "$ROOT/usr/libexec/swift/bin/swift" ]; then
  echo "$ROOT"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "creating the Swift root needs root (debootstrap, chroot)" >&2
  exit 1
fi

# The first Debian mirror in apt's sources: deb822 files (URIs:) or one-line sources.list.
mirror="$(
  {
    sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null || true
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true
  } | tr ' ' '\n' | grep -E '^https?://' | grep -v -- '-security' | head -n 1
)"
if [ -z "$mirror" ]; then
  echo "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing debootstrap from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi

# One creation at a time (the test script takes the same lock); another may have just finished.
exec 9>"$ROOT.lock"
flock 9
if [ -x "$ROOT/usr/libexec/swift/bin/swift" ]; then
  echo "$ROOT"
  exit 0
fi
if [ -e "$ROOT" ]; then
  echo "$ROOT exists but holds no Swift toolchain; remove it or set DOORSTEP_SWIFT_ROOT" >&2
  exit 1
fi

work="$ROOT.partial"
# A previous interrupted run may have left its mounts and files behind.
for m in "$work/dev" "$work/proc"; do
  if mountpoint -q "$m"; then umount -l "$m"; fi
done
rm -rf "$work"
mkdir -p "$(dirname "$ROOT")"

echo "creating the Swift root in $ROOT from $mirror (Debian trixie, swiftlang)" >&2
start=$SECONDS
debootstrap --variant=minbase trixie "$work" "$mirror" >&2
mount -t proc proc "$work/proc"
trap 'umount "$work/proc" 2>/dev/null || true' EXIT
chroot "$work" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive chroot "$work" apt-get install -y -qq --no-install-recommends \
  swiftlang libc6-dev libstdc++-14-dev ca-certificates >&2
chroot "$work" apt-get clean
umount "$work/proc"
trap - EXIT
mv "$work" "$ROOT"
echo "Swift root ready in $((SECONDS - start)) s" >&2

echo "$ROOT"
