#!/usr/bin/env bash
# One command for the whole test suite: installs the test needs, then lint, the suite on
# SQLite (with the browser tests in real Chromium), and the suite again on a real PostgreSQL
# server that the tests start themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh --test
bash scripts/venv.sh requirements-test.txt
export PATH="$PWD/.venv/bin:$PATH"
python -m app.commands.translations >/dev/null
mkdir -p test-output
echo "== lint"
ruff check app tests bench config.py wsgi.py scripts
python scripts/i18n_todo.py --check
# Two test processes (pytest-xdist): every test has its own database (a SQLite file, or one
# PostgreSQL server per process), so they never share state.
workers="${PYTEST_WORKERS:-2}"
echo "== SQLite (with browser tests)"
TEST_DATABASE=sqlite python -m pytest -q -p no:cacheprovider -n "$workers" "$@"
echo "== PostgreSQL"
TEST_DATABASE=postgresql python -m pytest -q -p no:cacheprovider -n "$workers" -m "not browser" "$@"
