# Switchboard: `just up` runs everything on the bundled model, `just test` runs every test.
set shell := ["bash", "-euo", "pipefail", "-c"]

py := ".venv/bin/python"

# list the recipes
default:
    @just --list

# create .venv, install dependencies (torch pinned), convert the bundled model once
setup:
    @scripts/setup.sh

# start nats-server and every service; Ctrl-C stops them all
up: setup
    {{py}} scripts/up.py

# stop an `up` running in another terminal
down:
    @{{py}} scripts/up.py --down

# run every test (real nats-server, real model code)
test *args: setup
    {{py}} -m pytest {{args}}

# benchmarks: ratios measured side by side in one run
bench: setup
    {{py}} -m bench.end_to_end
    {{py}} -m bench.relay
    {{py}} -m bench.training

# ruff and mypy (strict on services/ and messages/)
lint: setup
    {{py}} -m ruff check .
    {{py}} -m ruff format --check .
    {{py}} -m mypy
