#!/usr/bin/env bash
# make docker-engine: make sure a Docker engine with Compose v2 answers.
#   - An engine already answers: use it untouched (only Compose v2 may be added, see below).
#   - None answers: on Linux as root, and only where installing is allowed (CI=true, or
#     GRPC_LB_ALLOW_INSTALL=1), install Debian's docker.io and start dockerd in the background.
#   - Compose v2 missing: build it from the Go module proxy into .tools/ (keyed by version) and
#     link it as a CLI plugin (~/.docker/cli-plugins/docker-compose); also only where allowed.
# Everything this script starts or links is recorded in .tools/docker-engine/state, which
# `make docker-engine-down` (scripts/docker/engine-down.sh) reads to undo exactly that.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=docker-engine
source scripts/docker/lib.sh

COMPOSE_VERSION=${COMPOSE_VERSION:-v2.40.3}
STATE_DIR=$PWD/.tools/docker-engine
STATE=$STATE_DIR/state
COMPOSE_DIR=$PWD/.tools/compose-$COMPOSE_VERSION
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
OPT_IN_HINT="set CI=true or GRPC_LB_ALLOW_INSTALL=1 on a disposable machine to let make install it, or install Docker yourself"

record() { mkdir -p "$STATE_DIR" && echo "$1" >>"$STATE"; }

install_docker_io() {
  # Debian starts services from postinst; keep it from starting a second dockerd behind our back.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker.io iptables ca-certificates >/dev/null; } || rc=$?
  ((made_policy)) && rm -f "$policy"
  return "$rc"
}

start_dockerd() {
  mkdir -p "$STATE_DIR"
  # setsid: the engine outlives make and is not in its process group. dockerd writes its own pid
  # to --pidfile (setsid may fork, so $! need not be dockerd); engine-down stops that pid.
  local pidfile=$STATE_DIR/dockerd.pid
  rm -f "$pidfile"
  record "dockerd_pidfile=$pidfile"
  setsid nohup dockerd --pidfile "$pidfile" >"$STATE_DIR/dockerd.log" 2>&1 </dev/null &
  wait_until "dockerd to answer 'docker info'" 60 engine_answers || {
    say "dockerd did not answer; last lines of $STATE_DIR/dockerd.log:"
    tail -n 15 "$STATE_DIR/dockerd.log" >&2
    return 1
  }
  say "dockerd runs as pid $(cat "$pidfile")"
}

build_compose() {
  command -v go >/dev/null || { say "Go 1.24+ is needed to build Compose $COMPOSE_VERSION"; return 1; }
  local work
  work=$(mktemp -d)
  # `go install …@version` is refused (compose's go.mod has exclude directives): a throwaway
  # wrapper module that requires it builds the same command.
  (
    cd "$work" &&
      go mod init grpc-lb-compose-wrapper >/dev/null 2>&1 &&
      go get "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" >/dev/null 2>&1 &&
      mkdir -p "$COMPOSE_DIR" &&
      go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
        -o "$COMPOSE_DIR/docker-compose.tmp" github.com/docker/compose/v2/cmd
  ) || { rm -rf "$work"; return 1; }
  rm -rf "$work"
  mv "$COMPOSE_DIR/docker-compose.tmp" "$COMPOSE_DIR/docker-compose"
}

link_compose_plugin() {
  mkdir -p "$PLUGIN_DIR"
  ln -sfn "$COMPOSE_DIR/docker-compose" "$PLUGIN_DIR/docker-compose"
  record "plugin_link=$PLUGIN_DIR/docker-compose"
}

show_versions() {
  # Debian's docker.io puts its CLI in /usr/bin; a docker CLI installed by hand (a static binary in
  # /usr/local/bin, not a dpkg file, so the two never clash) comes first on PATH. It may be newer
  # than Debian's dockerd 20.10 (API 1.41): the client negotiates the API down. If it cannot, say so.
  if ! docker version >/dev/null 2>&1; then
    say "$(command -v docker) cannot talk to the engine: $(docker version 2>&1 | tail -n 1)"
    [[ $(command -v docker) == /usr/bin/docker || ! -x /usr/bin/docker ]] ||
      say "Debian's CLI is /usr/bin/docker; put /usr/bin before $(dirname "$(command -v docker)") on PATH"
    return 1
  fi
  docker version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), engine {{.Server.Version}} (API {{.Server.APIVersion}}, min {{.Server.MinAPIVersion}})' >&2
  docker compose version >&2
}

t_all=$(now_ms)
if ! command -v docker >/dev/null && ! install_allowed; then
  die "no docker CLI found; $OPT_IN_HINT"
fi
if command -v docker >/dev/null && engine_answers; then
  if [[ -f $STATE ]] && grep -q '^dockerd_pid' "$STATE"; then
    say "engine already running (started by an earlier 'make docker-engine', see $STATE)"
  else
    say "an engine already answers: using it untouched"
  fi
else
  [[ $(uname -s) == Linux ]] || die "no Docker engine answers; start Docker Desktop (or your engine) and retry"
  ((EUID == 0)) || die "no Docker engine answers and installing one needs root; start your engine, or run as root with CI=true / GRPC_LB_ALLOW_INSTALL=1"
  install_allowed || die "no Docker engine answers and this machine is not marked disposable; $OPT_IN_HINT"
  if [[ -f $STATE ]] && grep -q '^dockerd_pid' "$STATE"; then
    say "a dockerd recorded in $STATE no longer answers: forgetting it"
    sed -i '/^dockerd_pid/d' "$STATE"
  fi
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    step "install docker.io from Debian's packages (apt-get)" install_docker_io
  else
    say "dockerd is installed ($(command -v dockerd)): not installing"
  fi
  step "start dockerd in the background (log: .tools/docker-engine/dockerd.log)" start_dockerd
fi

if ! docker compose version >/dev/null 2>&1; then
  install_allowed || die "'docker compose' (Compose v2) is missing; $OPT_IN_HINT"
  if [[ -x $COMPOSE_DIR/docker-compose ]]; then
    say "Compose $COMPOSE_VERSION already built in ${COMPOSE_DIR#"$PWD"/}"
  else
    step "build Compose $COMPOSE_VERSION from the Go module proxy into ${COMPOSE_DIR#"$PWD"/}" build_compose
  fi
  step "link Compose as a Docker CLI plugin ($PLUGIN_DIR/docker-compose)" link_compose_plugin
fi
step "check the docker CLI against the engine" show_versions
say "ready in $(elapsed_since "$t_all")"
