#!/usr/bin/env bash
# Set up (idempotent), then run the guided tour of every system; it ends by printing the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/ilya demo "$@"
