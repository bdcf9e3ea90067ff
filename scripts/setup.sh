#!/usr/bin/env bash
# Creates .venv (Python >= 3.11) and installs FaceReID with its test and cluster (Ray) extras into it.
# Re-running is cheap: it reinstalls only when pyproject.toml (or this script) changed.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "FaceReID needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  echo "setup: creating .venv with $py" >&2
  "$py" -m venv .venv
fi

# Qt's offscreen and xcb platforms need a few system libraries a desktop has; install them when
# we can (root with apt-get) and they are missing.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && ! ldconfig -p | grep -q 'libEGL.so.1'; then
  echo "setup: installing the system libraries Qt needs" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libegl1 libgl1 \
     libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null) || echo "setup: could not install Qt's system libraries" >&2
fi

stamp=.venv/.facereid-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d" " -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing FaceReID and its dependencies into .venv (first time: a few minutes)" >&2
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test,cluster]"
  echo "$want" > "$stamp"
fi
