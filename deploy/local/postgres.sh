#!/usr/bin/env bash
# Real PostgreSQL (Debian's package), a private cluster in .cache/pg-data on 127.0.0.1.
# Usage: deploy/local/postgres.sh {install|start|stop|status|url [DB]|createdb NAME}  (idempotent)
# `start` also creates the database `sikerja` and one per service; `url '{service}'` prints
# the template for SIKERJA_DATABASE_URL (one database per service).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${SIKERJA_CACHE:-$ROOT/.cache}"
DATA="$CACHE/pg-data"
RUN="$CACHE/pg-run"          # unix socket, log
PORT="${SIKERJA_PG_PORT:-55432}"
HOST=127.0.0.1
APP_USER=sikerja
APP_PASSWORD=sikerja
APP_DB=sikerja
# One database per service (each owns its store); created by `start`, cheap when they exist.
SERVICE_DBS="${SIKERJA_PG_DATABASES:-attendance activity approval tpp notifier siasn portal}"

log() { echo "[postgres] $*" >&2; }

# Newest installed server binaries (Debian keeps them out of PATH).
pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  if command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return 0; fi
  return 1
}

# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"

install() {
  if pg_bin >/dev/null; then return 0; fi
  [[ $(id -u) == 0 ]] || { log "PostgreSQL missing; run as root to install it"; exit 1; }
  log "installing Debian's postgresql (first run only)"
  apt_install postgresql
  pg_bin >/dev/null || { log "postgresql installed but pg_ctl not found"; exit 1; }
}

# The server refuses to run as root: as root, run the server tools as the postgres user.
as_owner() {
  if [[ $(id -u) == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

ready() { "$BIN/pg_isready" -q -h "$HOST" -p "$PORT" -t 1 >/dev/null 2>&1; }

ours_running() {
  [[ -f "$DATA/postmaster.pid" ]] && kill -0 "$(head -1 "$DATA/postmaster.pid")" 2>/dev/null
}

initcluster() {
  mkdir -p "$DATA" "$RUN"
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$DATA" "$RUN"
    chmod 700 "$DATA"
    as_owner test -x "$DATA" || {
      log "user postgres cannot reach $DATA (a parent directory is not traversable)"; exit 1; }
  fi
  if [[ -f "$DATA/PG_VERSION" ]]; then return 0; fi
  log "initdb $DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    >"$RUN/initdb.log" 2>&1 || { cat "$RUN/initdb.log" >&2; exit 1; }
  # Our settings go last in postgresql.conf, so they win over the defaults above them.
  cat >> "$DATA/postgresql.conf" <<CONF

# --- sikerja (deploy/local/postgres.sh) ---
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 200
fsync = off                 # a throw-away development cluster: speed over durability
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
CONF
  cat > "$DATA/pg_hba.conf" <<HBA
# Loopback only, trust: a developer's private cluster.
local   all  all                trust
host    all  all  127.0.0.1/32  trust
host    all  all  ::1/128       trust
HBA
  [[ $(id -u) == 0 ]] && chown postgres: "$DATA/postgresql.conf" "$DATA/pg_hba.conf"
  return 0
}

psql_admin() { "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U postgres "$@"; }

ensure_role() {
  psql_admin -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'" | grep -q 1 \
    || psql_admin -d postgres -c \
      "CREATE ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD'"
}

createdb() {
  local name="${1:?usage: $0 createdb NAME}"
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "invalid database name: $name"; exit 2; }
  ready || { log "not running; start it first"; exit 1; }
  ensure_role
  if psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1
  then return 0; fi
  psql_admin -d postgres -c "CREATE DATABASE $name OWNER $APP_USER"
  log "database $name created"
}

start() {
  if ours_running && ready; then
    log "already running (pid $(head -1 "$DATA/postmaster.pid")) on $HOST:$PORT"; return 0
  fi
  if ready; then log "something already listens on $HOST:$PORT; using it"; return 0; fi
  install
  BIN="$(pg_bin)"
  initcluster
  log "starting on $HOST:$PORT"
  # -W: do not let pg_ctl wait; readiness is polled below with pg_isready.
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$RUN/postgres.log" -W start >/dev/null
  wait_ready
  ensure_role
  local db
  for db in $APP_DB $SERVICE_DBS; do createdb "$db"; done
}

wait_ready() {
  local t0=$SECONDS deadline=$((SECONDS + ${SIKERJA_PG_START_TIMEOUT:-60}))
  while (( SECONDS < deadline )); do
    if ready; then log "ready"; return 0; fi
    if (( SECONDS - t0 >= 3 )) && ! ours_running; then
      log "server exited; see $RUN/postgres.log"; tail -20 "$RUN/postgres.log" >&2; exit 1
    fi
    sleep 0.2
  done
  log "not ready after timeout; see $RUN/postgres.log"; exit 1
}

stop() {
  if ! ours_running; then log "not running"; return 0; fi
  as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  log "stopped"
}

status() {
  if ours_running && ready; then
    echo "postgres: running (pid $(head -1 "$DATA/postmaster.pid")) $HOST:$PORT"
  else
    echo "postgres: stopped"; return 1
  fi
}

url() { echo "postgresql+psycopg://$APP_USER:$APP_PASSWORD@$HOST:$PORT/${1:-$APP_DB}"; }

BIN="$(pg_bin || true)"
case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) [[ -n "$BIN" ]] || { log "not installed"; exit 0; }; stop ;;
  status) [[ -n "$BIN" ]] || { echo "postgres: not installed"; exit 1; }; status ;;
  url) url "${2:-}" ;;
  createdb) [[ -n "$BIN" ]] || { log "not installed"; exit 1; }; createdb "${2:-}" ;;
  *) echo "usage: $0 {install|start|stop|status|url [DB]|createdb NAME}"; exit 2 ;;
esac
