#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements file given as $1.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
# Debian's own Python 3.11 is built with PGO and LTO: the same pages cost 15-20% less CPU than
# on a locally compiled interpreter (bench/README.md). Use it when the machine has it.
py=python3
[ -x /usr/bin/python3.11 ] && /usr/bin/python3.11 -c "import venv, ensurepip" 2>/dev/null && py=/usr/bin/python3.11
[ -x .venv/bin/python ] || "$py" -m venv .venv
stamp=".venv/.installed-$(basename "$req")"
# requirements.lock pins every transitive dependency to what the suite was tested with.
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ requirements.lock -nt "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r "$req" -c requirements.lock
  touch "$stamp"
fi
