#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (/usr/bin/chromium); install it when missing and we may.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "Chromium is missing ($CHROMIUM) and installing it needs root: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "Chromium is missing ($CHROMIUM): install Chromium and set CHROMIUM to its path" >&2
  exit 1
fi
echo "==> installing Debian's chromium for the browser tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji >/dev/null
