#!/usr/bin/env bash
# Build the documentation site in strict mode: a broken reference, a missing page or an
# undocumented SOP key fails the build. Run from the repository root; the site goes to
# $1 (default /tmp/site), never into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
"$PY" -m pip install -q ".[docs]"
NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict --site-dir "${1:-/tmp/site}"
