#!/usr/bin/env bash
# Debian's Chromium, for the portal's end-to-end and accessibility tests (Playwright is
# pointed at /usr/bin/chromium: no browser download from elsewhere).
# Usage: deploy/local/chromium.sh {install|path}   (idempotent)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { echo "[chromium] $*" >&2; }

# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"

BIN="${SIKERJA_CHROMIUM:-/usr/bin/chromium}"

install() {
  if [[ -x "$BIN" ]]; then return 0; fi
  [[ $(id -u) == 0 ]] || { log "chromium missing; run as root to install it"; exit 1; }
  log "installing Debian's chromium (first run only)"
  apt_install chromium
}

case "${1:-install}" in
  install) install ;;
  path) echo "$BIN" ;;
  *) echo "usage: $0 {install|path}" >&2; exit 2 ;;
esac
