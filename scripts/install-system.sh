#!/usr/bin/env bash
# System packages Jijian needs on Debian/Ubuntu: CJK font and HarfBuzz subsetting for
# WeasyPrint, poppler tools, PostgreSQL and Chromium for the tests. Idempotent.
set -euo pipefail
want=(python3-venv fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 sqlite3)
if [ "${1:-}" = "--test" ]; then
  want+=(poppler-utils chromium postgresql postgresql-client)
fi
missing=()
for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
