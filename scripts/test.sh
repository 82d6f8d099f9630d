#!/usr/bin/env bash
# Set up (idempotent), then lint, check the layering and the types, and run the whole default test suite
# (slow tests are excluded; see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
# the layering of docs/architecture.md (import-linter contracts in pyproject.toml)
.venv/bin/lint-imports --no-cache
# types: 0 errors over src/ (strict for core/ and metamath/; configured in pyproject.toml)
.venv/bin/pyright
exec .venv/bin/python -m pytest -n "${ILYA_TEST_JOBS:-auto}" "$@"
