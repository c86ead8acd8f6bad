# Shared by the deploy/local scripts (sourced, not run).

# apt_install [--no-install-recommends] PACKAGE...: install Debian packages quietly without
# letting them start a system daemon (policy-rc.d 101 = "do not start"); `apt-get update`
# only when the package lists do not know the first package yet.
apt_install() {
  local opts=()
  if [[ "${1:-}" == --no-install-recommends ]]; then opts+=("$1"); shift; fi
  if ! apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get update -qq
  fi
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${opts[@]}" "$@" >/dev/null || {
    [[ $made_policy == 1 ]] && rm -f "$policy"; return 1; }
  [[ $made_policy == 1 ]] && rm -f "$policy"
  return 0
}
