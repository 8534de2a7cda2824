#!/usr/bin/env bash
# make docker-engine-down: undo what `make docker-engine` started, and only that (as recorded
# in .tools/docker-engine/state): stop the dockerd it started, remove the plugin link it made.
# An engine the user already had is never touched. Installed packages stay installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=docker-engine-down
source scripts/docker/lib.sh

STATE=$PWD/.tools/docker-engine/state
if [[ ! -f $STATE ]]; then
  say "nothing recorded in ${STATE#"$PWD"/}: nothing of ours to stop"
  exit 0
fi

is_our_dockerd() { [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q '^dockerd'; }
gone() { ! kill -0 "$1" 2>/dev/null; }

stop_dockerd() {
  local pid=$1
  if ! is_our_dockerd "$pid"; then
    say "dockerd pid $pid is not running any more"
    return 0
  fi
  # SIGTERM: dockerd stops its containers and its own containerd, then exits.
  kill -TERM "$pid"
  wait_until "dockerd (pid $pid) to exit" 60 gone "$pid" || {
    say "dockerd did not exit on SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until "dockerd (pid $pid) to die" 10 gone "$pid"
  }
}

t_all=$(now_ms)
while IFS='=' read -r key value; do
  case $key in
    dockerd_pid) step "stop dockerd (pid $value)" stop_dockerd "$value" ;;
    dockerd_pidfile)
      if [[ -s $value ]]; then
        pid=$(cat "$value")
        step "stop dockerd (pid $pid, from ${value#"$PWD"/})" stop_dockerd "$pid"
      else
        say "no pid in $value: dockerd did not start or has cleaned up after itself"
      fi
      rm -f "$value"
      ;;
    plugin_link) step "remove the Compose plugin link $value" rm -f "$value" ;;
    *) [[ -z $key ]] || say "ignoring unknown entry '$key' in the state file" ;;
  esac
done <"$STATE"
rm -f "$STATE"
say "done in $(elapsed_since "$t_all")"
