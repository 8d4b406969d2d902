#!/usr/bin/env bash
# Creates .venv at the repository root and installs the project with the given extras.
# Usage: scripts/setup.sh [EXTRAS]   e.g. scripts/setup.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
# torch first and pinned: an unpinned dependency would pull the newest build and its CUDA wheels.
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  "${pip[@]}" install torch==2.13.0
fi
spec="."
[ -n "$extras" ] && spec=".[$extras]"
"${pip[@]}" install -c scripts/constraints.txt -e "$spec"
