#!/usr/bin/env bash
# Set up what the tests need and run them all (unit, integration, end-to-end) on the real
# PostgreSQL and RabbitMQ. Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/infra.sh"
# A developer machine: the built-in token secret, the demo sign-in (unset means production).
export KOOP_ENV=${KOOP_ENV:-development}
ensure_all
ensure_chromium
ensure_promtool
ensure_asyncapi_parser
cd "$KOOP_ROOT"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# No block of 6 lines or more written twice in the production code (tests and bench apart).
.venv/bin/python -m pylint --disable=all --enable=duplicate-code --min-similarity-lines=6 \
    --score=n services shared kooperacja
# Every file carries its licence and copyright (REUSE.toml, LICENSES/).
.venv/bin/reuse lint --quiet || { .venv/bin/reuse lint; exit 1; }
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
