#!/usr/bin/env bash
# Set up (idempotent), then run the whole default test suite (slow tests are excluded; see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n "${ILYA_TEST_JOBS:-auto}" "$@"
