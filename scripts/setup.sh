#!/usr/bin/env bash
# Set up everything smartpark needs on a Debian machine, unattended and idempotent:
# system packages, TimescaleDB, the Python environment, the local services and the schema.
# A second run skips what is done. Set SMARTPARK_DATABASE_URL / SMARTPARK_MQTT_URL to use
# existing servers instead of the local ones.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive

missing=()
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || missing+=("$1"); }
if [ -z "${SMARTPARK_DATABASE_URL:-}" ]; then need postgresql; need postgresql-contrib; fi
if [ -z "${SMARTPARK_MQTT_URL:-}" ]; then need mosquitto; need mosquitto-clients; fi
command -v "$PY" >/dev/null || need python3
"$PY" -m venv --help >/dev/null 2>&1 || need python3-venv
need fonts-noto-cjk  # the report packs' PDFs embed it (reports/render_pdf.py), and the browser shows Chinese with it
[ "${SMARTPARK_BROWSER_TESTS:-1}" = 0 ] || need chromium
command -v npm >/dev/null || need npm  # the page's build tools (below)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts its own default cluster and broker; smartpark runs its own on other ports.

if [ -z "${SMARTPARK_DATABASE_URL:-}" ]; then
  bash scripts/install-timescaledb.sh
fi

stamp="$VENV/.smartpark-installed"
want=$(cat pyproject.toml $([ -f requirements.lock ] && echo requirements.lock) | sha256sum | cut -c1-16)
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies"
  "$VENV/bin/pip" install -q --upgrade pip
  if [ -f requirements.lock ]; then
    "$VENV/bin/pip" install -q -c requirements.lock -e '.[dev]'
  else
    "$VENV/bin/pip" install -q -e '.[dev]'
  fi
  echo "$want" >"$stamp"
fi

# The page's build tools (dashboards/build: `make web` and the test that the committed bundles are
# what the sources build), pinned by its lock. Running smartpark needs none of them.
tools=dashboards/build/node_modules/.package-lock.json
if [ ! -f "$tools" ] || [ dashboards/build/package-lock.json -nt "$tools" ]; then
  log "installing the page's build tools"
  (cd dashboards/build && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

"$VENV/bin/smartpark" services up --migrate
