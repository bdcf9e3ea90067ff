#!/usr/bin/env bash
# Sets up what FaceReID needs (first run only) and runs the whole test suite.
# Test data is read from ../shared/data (override with FACEREID_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
