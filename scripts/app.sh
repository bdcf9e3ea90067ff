#!/usr/bin/env bash
# Sets up what FaceReID needs (first run only) and launches the desktop app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m facereid_gui "$@"
