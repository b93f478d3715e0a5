#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements file given as $1.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
[ -x .venv/bin/python ] || python3 -m venv .venv
stamp=".venv/.installed-$(basename "$req")"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req"
  touch "$stamp"
fi
