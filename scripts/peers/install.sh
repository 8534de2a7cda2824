#!/usr/bin/env bash
# make peers: make sure HAProxy and nginx, the balancing layers measured beside Envoy, are installed.
#   - Both on PATH (or in /usr/sbin): print their versions, change nothing.
#   - Missing: on Linux as root, and only where installing is allowed (CI=true, or
#     GRPC_LB_ALLOW_INSTALL=1), install Debian's haproxy and nginx-light with apt-get.
#     The packages' own services are never started: a policy-rc.d that refuses every start is
#     in place during the install, and the units are disabled after it. Our instances are child
#     processes of the lab and the tests, each with its own config, pid file and logs.
#   - Not allowed: say what is missing and how to allow it; exit 0 so `make test` goes on and
#     the peers' tests skip with that reason.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=peers
source scripts/docker/lib.sh

OPT_IN_HINT="set CI=true or GRPC_LB_ALLOW_INSTALL=1 on a disposable machine to let make install them, or run: apt-get install haproxy nginx-light"
export PATH=$PATH:/usr/sbin:/sbin

missing() {
  local out=()
  command -v haproxy >/dev/null || out+=(haproxy)
  command -v nginx >/dev/null || out+=(nginx-light)
  echo "${out[@]:-}"
}

install_packages() {
  local policy=/usr/sbin/policy-rc.d backup=""
  # Debian's postinst starts the service through invoke-rc.d, which asks policy-rc.d first; 101 = refuse.
  if [[ -e $policy ]]; then backup=$(mktemp) && cp -p "$policy" "$backup"; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } || rc=$?
  if [[ -n $backup ]]; then mv "$backup" "$policy"; else rm -f "$policy"; fi
  return "$rc"
}

keep_services_down() {
  # Belt and braces where systemd runs: a later boot must not start them either.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    systemctl disable --now haproxy.service nginx.service >/dev/null 2>&1 || true
  fi
}

show_versions() {
  say "$(haproxy -v 2>&1 | head -n 1)"
  say "$(nginx -v 2>&1 | head -n 1)"
}

need=$(missing)
if [[ -z $need ]]; then
  show_versions
  exit 0
fi
if [[ $(uname -s) != Linux ]] || [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
  say "missing: $need; installing them needs Linux with apt-get as root. The peers' tests will skip."
  exit 0
fi
if [[ ${CI:-} != true ]] && [[ ${GRPC_LB_ALLOW_INSTALL:-} != 1 ]]; then
  say "missing: $need; $OPT_IN_HINT. The peers' tests will skip."
  exit 0
fi
# shellcheck disable=SC2086 # $need is a list of package names
step "install Debian's $need with apt-get (services kept stopped)" install_packages $need
keep_services_down
show_versions
