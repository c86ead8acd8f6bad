#!/usr/bin/env bash
# Real Redis (Debian's redis-server), a private instance on 127.0.0.1, data in .cache/redis-data.
# Usage: deploy/local/redis.sh {install|start|stop|status|url}   (idempotent)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${SIKERJA_CACHE:-$ROOT/.cache}"
DATA="$CACHE/redis-data"
RUN="$CACHE/redis-run"
PORT="${SIKERJA_REDIS_PORT:-56379}"
HOST=127.0.0.1
PIDFILE="$RUN/redis.pid"

log() { echo "[redis] $*" >&2; }

# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"

install() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return 0; fi
  [[ $(id -u) == 0 ]] || { log "redis-server missing; run as root to install it"; exit 1; }
  log "installing Debian's redis-server (first run only)"
  apt_install redis-server redis-tools
}

cli() { redis-cli -h "$HOST" -p "$PORT" "$@"; }
ready() { command -v redis-cli >/dev/null && [[ "$(cli ping 2>/dev/null)" == PONG ]]; }
running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

configure() {
  mkdir -p "$DATA" "$RUN"
  cat > "$RUN/redis.conf" <<CONF
bind $HOST
port $PORT
protected-mode yes
daemonize yes
pidfile $PIDFILE
dir $DATA
logfile $RUN/redis.log
loglevel warning
save 60 1000
appendonly no
CONF
}

start() {
  if running && ready; then log "already running (pid $(cat "$PIDFILE")) on $HOST:$PORT"; return 0; fi
  if ready; then log "something already listens on $HOST:$PORT; using it"; return 0; fi
  install
  configure
  log "starting on $HOST:$PORT"
  redis-server "$RUN/redis.conf"
  wait_ready
}

wait_ready() {
  local t0=$SECONDS deadline=$((SECONDS + ${SIKERJA_REDIS_START_TIMEOUT:-30}))
  while (( SECONDS < deadline )); do
    if ready; then log "ready"; return 0; fi
    if (( SECONDS - t0 >= 3 )) && ! running; then
      log "server exited; see $RUN/redis.log"; tail -20 "$RUN/redis.log" >&2; exit 1
    fi
    sleep 0.1
  done
  log "not ready after timeout; see $RUN/redis.log"; exit 1
}

stop() {
  if ! running; then
    if ready; then log "$HOST:$PORT dimulai di luar SIKERJA ini; dibiarkan berjalan"
    else log "not running"; fi
    rm -f "$PIDFILE"; return 0
  fi
  local pid; pid=$(cat "$PIDFILE")
  kill -TERM "$pid"   # redis saves its snapshot on SIGTERM
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$PIDFILE"; log "stopped"
}

# What is true: `start` uses any Redis already answering on the port, so status says so too.
status() {
  if running && ready; then echo "redis: berjalan di $HOST:$PORT (pid $(cat "$PIDFILE"))"
  elif ready; then
    echo "redis: berjalan di $HOST:$PORT (dimulai di luar SIKERJA ini; \`down\` tidak menghentikannya)"
  else echo "redis: berhenti"; return 1; fi
}

url() { echo "redis://$HOST:$PORT/${1:-0}"; }

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url "${2:-}" ;;
  *) echo "usage: $0 {install|start|stop|status|url [DB]}"; exit 2 ;;
esac
