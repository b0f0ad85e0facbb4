#!/usr/bin/env bash
# Pin every dependency, with hashes, from pyproject.toml: deploy/requirements.lock (what the image
# runs) and deploy/requirements-dev.lock (that plus the tools and tests: what CI installs). Run
# after changing a dependency; tests/unit/test_lock_files.py fails until you do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
uv=${UV:-.venv/bin/uv}
[ -x "$uv" ] || { .venv/bin/pip install -q uv && uv=.venv/bin/uv; }
common=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --quiet
        --no-header --annotation-style line)
"$uv" pip compile pyproject.toml "${common[@]}" -o deploy/requirements.lock
"$uv" pip compile pyproject.toml --extra dev "${common[@]}" -o deploy/requirements-dev.lock
