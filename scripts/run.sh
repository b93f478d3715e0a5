#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to Jijian with demo data on SQLite:
# installs what is needed, migrates, seeds the demo, prints the logins, and serves
# http://127.0.0.1:5000 with gunicorn beside the scheduler process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-system.sh
bash scripts/venv.sh requirements.txt
export PATH="$PWD/.venv/bin:$PATH"
python -m app.commands.translations >/dev/null
flask --app wsgi db upgrade
flask --app wsgi seed-demo
# The demo's overdue batches and orders at risk show on the supervisors' home at once,
# rather than at the scheduler's first tick.
flask --app wsgi run-job mark_overdue || true
flask --app wsgi run-job flag_orders_at_risk || true
if flask --app wsgi scheduler --help >/dev/null 2>&1; then
  flask --app wsgi scheduler &
  SCHED=$!
  trap 'kill $SCHED 2>/dev/null || true' EXIT
fi
exec_cmd=(gunicorn --bind 127.0.0.1:${PORT:-5000} --workers ${WEB_WORKERS:-2} --threads 4 --access-logfile - wsgi:app)
"${exec_cmd[@]}"
