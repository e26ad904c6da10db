# Switchboard: `just up` runs everything on the bundled model, `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

py := ".venv/bin/python"

# list the recipes
default:
    @just --list

# create .venv, install dependencies (torch pinned), convert the bundled model once
setup:
    @scripts/setup.sh

# build the web app once (cached; rebuilt when ui/ changes)
ui-build:
    @scripts/build_ui.sh

# the web app's GraphQL types (ui/src/api/generated.ts) from services/gateway/schema.graphql and the app's documents
codegen:
    cd ui && npm run --silent codegen

# start nats-server, every service and the web app (:3000); Ctrl-C stops them all
up: setup ui-build
    {{py}} scripts/up.py

# the same on a three-node local NATS cluster (nats/cluster.conf), NATS_REPLICAS=3, two inference workers
up-cluster: setup ui-build
    {{py}} scripts/up.py --cluster

# the web app with hot reload on http://localhost:5173, beside a running `just up` (its gateway on :8080)
ui-dev: ui-build
    cd ui && npx vite --port 5173

# stop an `up` running in another terminal
down:
    @{{py}} scripts/up.py --down

# run every test: pytest (real nats-server, real model, the web app in real Chromium) and the UI's vitest
test *args: setup ui-build
    @scripts/ensure_chromium.sh
    cd ui && npx vitest run
    {{py}} -m pytest {{args}}

# benchmarks: ratios measured side by side in one run
bench: setup
    {{py}} -m bench.concurrency
    {{py}} -m bench.end_to_end
    {{py}} -m bench.relay
    {{py}} -m bench.structured
    {{py}} -m bench.training

# ruff and mypy (strict on services/ and messages/)
lint: setup ui-build
    {{py}} -m ruff check .
    {{py}} -m ruff format --check .
    {{py}} -m mypy
    cd ui && npx tsc --noEmit
    @cd ui && if ! out=$(npm run --silent codegen:check 2>&1); then echo "$out" >&2; echo "ui/src/api/generated.ts is not what schema.graphql and the app's documents give: run just codegen" >&2; exit 1; fi
