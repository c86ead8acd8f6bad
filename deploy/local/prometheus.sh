#!/usr/bin/env bash
# promtool from Debian's prometheus package, to check the scrape config and the alert rules.
# Usage: deploy/local/prometheus.sh {install|check}   (idempotent)
# Also checks prometheus.docker.yml (the Compose variant) and runs the alerts_test.yml unit tests.
# The package is installed only for promtool: no system prometheus is left running.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONF_DIR="$ROOT/deploy/prometheus"

log() { echo "[prometheus] $*" >&2; }

# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"

# Belt and braces: should the package have started its daemon anyway, stop and disable it.
quiet_system_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  else
    if [[ -x /etc/init.d/prometheus ]]; then /etc/init.d/prometheus stop >/dev/null 2>&1 || true; fi
    if command -v update-rc.d >/dev/null; then update-rc.d prometheus disable >/dev/null 2>&1 || true; fi
  fi
  local pid
  for pid in $(pgrep -x prometheus 2>/dev/null || true); do
    # Only the packaged daemon (run by the prometheus system user), never someone's own.
    if [[ "$(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ')" == prometheus ]]; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
}

install() {
  if command -v promtool >/dev/null; then return 0; fi
  [[ $(id -u) == 0 ]] || { log "promtool missing; run as root to install it"; exit 1; }
  log "installing Debian's prometheus for promtool (first run only)"
  apt_install --no-install-recommends prometheus
  quiet_system_service
  command -v promtool >/dev/null || { log "prometheus installed but promtool not found"; exit 1; }
}

check() {
  command -v promtool >/dev/null || { log "promtool missing; run: $0 install"; exit 1; }
  promtool check config "$CONF_DIR/prometheus.yml"
  promtool check config "$CONF_DIR/prometheus.docker.yml"
  promtool check rules "$CONF_DIR/alerts.yml"
  if [[ -f "$CONF_DIR/alerts_test.yml" ]]; then
    (cd "$CONF_DIR" && promtool test rules alerts_test.yml)
  fi
}

case "${1:-check}" in
  install) install ;;
  check) check ;;
  *) echo "usage: $0 {install|check}"; exit 2 ;;
esac
