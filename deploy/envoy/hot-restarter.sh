#!/usr/bin/env bash
# PID 1 of an Envoy container whose configuration can change in place, by Envoy's own hot
# restart: the new process takes the listening sockets over from the old one, the old one
# tells its connections to go (HTTP/2 GOAWAY) and exits by itself.
#
#   hot-restarter.sh SOURCE_CONFIG RUN_DIR [ENVOY_ARG...]
#
# At start, SOURCE_CONFIG (the mounted file) is copied to RUN_DIR/envoy.yaml, and Envoy runs
# that copy as epoch 0. To change the configuration: write RUN_DIR/envoy.yaml anew, then
# send this process SIGHUP (`docker kill -s HUP`); it starts the next epoch
# (--restart-epoch N+1) on the file as it is then.
#
#   SIGHUP           check the file (envoy --mode validate), then start the next epoch. A file
#                    that does not validate is refused and the serving epoch goes on serving;
#                    an epoch that fails to start anyway exits on its own, the same.
#   SIGTERM, SIGINT  pass the signal to every epoch, wait for them, exit with the serving
#                    epoch's status.
#   an epoch exits   the serving one: stop the others and exit with its status (the container
#                    ends); an older one, drained: go on.
#
# ENVOY_ARG... go to every epoch as they are; the drain and parent shutdown times among them
# say how long an old epoch keeps its connections.
set -uo pipefail

if (($# < 2)); then
  echo "usage: hot-restarter.sh SOURCE_CONFIG RUN_DIR [ENVOY_ARG...]" >&2
  exit 2
fi
source_config=$1
run_dir=$2
shift 2
config=$run_dir/envoy.yaml
envoy=${ENVOY_BINARY:-/usr/local/bin/envoy}

say() { echo "hot-restarter: $*" >&2; }

cp "$source_config" "$config" || {
  say "cannot copy $source_config to $config"
  exit 1
}

declare -A epoch_of=() # pid -> restart epoch
serving=               # pid of the newest epoch that has not failed
stopping=0

start_epoch() {
  local epoch=$1
  shift
  "$envoy" -c "$config" --restart-epoch "$epoch" "$@" &
  epoch_of[$!]=$epoch
  say "epoch $epoch started (pid $!) with $config"
  serving=$!
}

on_hup() {
  ((stopping)) && return
  # A child that fails after it reached its parent leaves the parent refusing every later
  # child ("previous envoy process is still initializing"): check the file first.
  if ! "$envoy" --mode validate -c "$config" -l error >/dev/null 2>"$run_dir/validate.err"; then
    say "$config does not validate; epoch ${epoch_of[$serving]} (pid $serving) goes on serving: $(tail -n 3 "$run_dir/validate.err" | tr '\n' ' ')"
    return
  fi
  start_epoch "$((${epoch_of[$serving]} + 1))" "${envoy_args[@]}"
}

on_stop() {
  stopping=1
  say "stopping every epoch (${!epoch_of[*]})"
  kill -TERM "${!epoch_of[@]}" 2>/dev/null
}

envoy_args=("$@")
trap on_hup HUP
trap on_stop TERM INT
start_epoch 0 "${envoy_args[@]}"

while ((${#epoch_of[@]} > 0)); do
  pid=
  wait -n -p pid
  status=$?
  # A trapped signal ends the wait with no child: its handler has run; wait again.
  # (bash unsets the variable then.)
  [[ -n ${pid:-} && -n ${epoch_of[$pid]+set} ]] || continue
  epoch=${epoch_of[$pid]}
  unset "epoch_of[$pid]"
  if [[ $pid != "$serving" ]]; then
    say "epoch $epoch (pid $pid) exited with status $status"
    continue
  fi
  if ((!stopping)) && ((${#epoch_of[@]} > 0)); then
    # The newest epoch died while an older one still serves: it failed to take over.
    serving=$(for p in "${!epoch_of[@]}"; do echo "${epoch_of[$p]} $p"; done | sort -n | tail -n 1 | cut -d' ' -f2)
    say "epoch $epoch (pid $pid) exited with status $status; epoch ${epoch_of[$serving]} (pid $serving) goes on serving"
    continue
  fi
  say "epoch $epoch (pid $pid), the serving one, exited with status $status"
  ((${#epoch_of[@]} > 0)) && kill -TERM "${!epoch_of[@]}" 2>/dev/null && wait
  exit "$status"
done
