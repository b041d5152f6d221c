#!/usr/bin/env bash
# Installs what the browser tests need, once per machine: Debian's chromium and a Chinese font,
# Node.js when it is missing, and playwright-core (pinned in tests/browser/package-lock.json) into
# tests/browser/node_modules. Never downloads a browser of its own: Playwright's browser
# download does not work on these closed networks, so the tests drive /usr/bin/chromium.
# Prints chromium's path as the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=/usr/bin/chromium
BROWSER_DIR=tests/browser
# A copy of the lock that node_modules was installed from: a changed lock means reinstall.
INSTALLED_LOCK="$BROWSER_DIR/node_modules/.doorstep-installed-lock.json"

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# apt-get install, with `apt-get update` only when the package lists are too old or missing
# (a fresh CI machine), which saves a slow update on machines that already have them.
apt_install() {
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2; then
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >&2
  fi
}

if [ ! -x "$CHROMIUM" ]; then
  echo "installing chromium from Debian" >&2
  apt_install chromium
fi

# A Chinese font, so that the screenshots show the console's text rather than empty boxes.
if [ ! -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then
  echo "installing a Chinese font (fonts-wqy-microhei) from Debian" >&2
  apt_install fonts-wqy-microhei
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js (nodejs, npm) from Debian" >&2
  apt_install nodejs npm
fi
# playwright-core refuses to start on Node.js older than 20 (bookworm's own nodejs is 18).
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "the browser tests need Node.js 20 or newer; found $(node --version)" >&2
  exit 1
fi

if [ ! -d "$BROWSER_DIR/node_modules" ] || ! cmp -s "$BROWSER_DIR/package-lock.json" "$INSTALLED_LOCK"; then
  echo "installing playwright-core into $BROWSER_DIR/node_modules (npm ci)" >&2
  (cd "$BROWSER_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  cp "$BROWSER_DIR/package-lock.json" "$INSTALLED_LOCK"
fi

echo "$CHROMIUM"
