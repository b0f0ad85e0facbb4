#!/usr/bin/env bash
# Set everything up on this machine and run the whole system with the demo region loaded.
# Ctrl-C stops all five services cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/infra.sh"
# A developer machine: the built-in token secret, the demo sign-in (unset means production).
export KOOP_ENV=${KOOP_ENV:-development}
ensure_all
cd "$KOOP_ROOT"
exec .venv/bin/kooperacja up --demo "$@"
