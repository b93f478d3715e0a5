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
echo "== type check (mypy, pyproject.toml)"
mypy
python scripts/i18n_todo.py --check
# Two test processes (pytest-xdist): every test has its own database (a SQLite file, or one
# PostgreSQL server per process), so they never share state.
workers="${PYTEST_WORKERS:-2}"
echo "== SQLite (with browser tests)"
TEST_DATABASE=sqlite python -m pytest -q -p no:cacheprovider -n "$workers" "$@"
echo "== PostgreSQL"
TEST_DATABASE=postgresql python -m pytest -q -p no:cacheprovider -n "$workers" -m "not browser" "$@"
# The date-sensitive tests (marked `calendar`) again on the hard days of the workshop's calendar
# (tests/clock.py): the last day of a month and 31 December at 23:30, the 1st and 1 January at
# 00:30 (the UTC day and year are still the old ones), 29 February 2028 — on a machine whose own
# timezone is America/Los_Angeles, which no test may notice. One session, each test once a day.
if [ -z "${JIJIAN_SKIP_HARD_DAYS:-}" ]; then
  echo "== SQLite on hard days, TZ=America/Los_Angeles"
  TZ=America/Los_Angeles JIJIAN_TEST_DAYS="${JIJIAN_HARD_DAYS:-2026-12-31T23:30,2027-01-01T00:30,2028-02-29T12:00}" \
    TEST_DATABASE=sqlite python -m pytest -q -p no:cacheprovider -n "$workers" -m "calendar" "$@" || [ $? -eq 5 ]  # 5: none selected
fi
