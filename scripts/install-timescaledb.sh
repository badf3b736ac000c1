#!/usr/bin/env bash
# Make the TimescaleDB extension available to the local PostgreSQL, once per machine.
#   Debian 13+: the distribution ships postgresql-NN-timescaledb.
#   Debian 12:  build Debian's own timescaledb source package (trixie, Apache-2 edition)
#               against postgresql-server-dev-NN; the build tree is kept under $CACHE.
# Idempotent: exits at once when the extension is already installed.
set -euo pipefail

CACHE=${SMARTPARK_BUILD_CACHE:-/var/cache/smartpark}
export DEBIAN_FRONTEND=noninteractive
log() { printf '[timescaledb] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_major() {
  # newest installed server, else the distribution's default
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n1 || true)
  if [ -z "$v" ]; then
    v=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9]\+\)$/\1/p' | head -n1)
  fi
  echo "$v"
}

have_extension() {
  [ -f "/usr/share/postgresql/$1/extension/timescaledb.control" ] &&
    ls "/usr/lib/postgresql/$1/lib/"timescaledb*.so >/dev/null 2>&1
}

apt_updated=
apt_update_once() { [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }; }

ensure_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL from the distribution"
    apt_update_once
    as_root apt-get install -y -qq postgresql >/dev/null
  fi
}

main() {
  ensure_postgres
  local pg; pg=$(pg_major)
  if have_extension "$pg"; then log "present for PostgreSQL $pg"; return 0; fi

  apt_update_once
  if apt-cache show "postgresql-$pg-timescaledb" >/dev/null 2>&1; then
    log "installing postgresql-$pg-timescaledb"
    as_root apt-get install -y -qq "postgresql-$pg-timescaledb" >/dev/null
    have_extension "$pg" && return 0
  fi

  log "building from Debian's timescaledb source package for PostgreSQL $pg"
  as_root apt-get install -y -qq "postgresql-server-dev-$pg" cmake gcc make dpkg-dev libssl-dev >/dev/null
  mkdir -p "$CACHE/apt-lists/partial" "$CACHE/src"
  local list="$CACHE/trixie-src.list"
  echo "deb-src http://deb.debian.org/debian trixie main" >"$list"
  local aptopts=(-o "Dir::Etc::SourceList=$list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$CACHE/apt-lists")
  local src
  src=$(ls -d "$CACHE"/src/timescaledb-*/ 2>/dev/null | head -n1 || true)
  if [ -z "$src" ]; then
    apt-get "${aptopts[@]}" update -qq
    (cd "$CACHE/src" && apt-get "${aptopts[@]}" source --download-only -qq timescaledb &&
      dpkg-source -x --skip-debianization ./timescaledb_*.dsc >/dev/null 2>&1 || dpkg-source -x ./timescaledb_*.dsc >/dev/null)
    src=$(ls -d "$CACHE"/src/timescaledb-*/ | head -n1)
  fi
  local build="$CACHE/build-pg$pg"
  cmake -S "$src" -B "$build" -DPG_CONFIG="/usr/lib/postgresql/$pg/bin/pg_config" \
    -DAPACHE_ONLY=ON -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF \
    -DSEND_TELEMETRY_DEFAULT=OFF -DUSE_TELEMETRY=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
  as_root cmake --install "$build" >/dev/null
  have_extension "$pg" || { log "build finished but the extension is not installed"; exit 1; }
  log "installed for PostgreSQL $pg"
}

main "$@"
