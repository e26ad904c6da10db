#!/usr/bin/env bash
# Build the web app once and cache it: npm ci when package-lock.json changed, vite build when ui/ sources changed.
set -euo pipefail
cd "$(dirname "$0")/../ui"

if ! command -v npm >/dev/null; then
  echo "build_ui: npm not found; install Node.js 20 to build the web app" >&2
  exit 1
fi

DEPS=$(cat package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f node_modules/.switchboard-deps ] || [ "$(cat node_modules/.switchboard-deps)" != "$DEPS" ]; then
  echo "==> installing the web app's packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$DEPS" > node_modules/.switchboard-deps
fi

SRC=$( (find src public -type f | LC_ALL=C sort | xargs cat; cat index.html vite.config.ts tsconfig.json package-lock.json) \
  | sha256sum | cut -d' ' -f1)
if [ ! -f dist/.switchboard-build ] || [ "$(cat dist/.switchboard-build)" != "$SRC${VITE_GRAPHQL_URL:-}${VITE_GRAPHQL_WS_URL:-}" ]; then
  echo "==> building the web app (vite build)"
  npx tsc --noEmit
  npx vite build --logLevel warn
  echo "$SRC${VITE_GRAPHQL_URL:-}${VITE_GRAPHQL_WS_URL:-}" > dist/.switchboard-build
fi
