#!/usr/bin/env bash
# make e2e-compose: the Compose system end to end on a real Docker engine, from nothing:
#   engine     make docker-engine (installs and starts one where allowed and none answers)
#   images     make docker-images (stand-in base images, the server image; no registry)
#   cluster    make docker-cluster IMAGES=standin ENVOY_PORT=$E2E_ENVOY_PORT
#   seed       make docker-test: 3 servers, 33/33/34 for 100 calls, asserted; then the seed's
#              own sequence on 4 more fresh clusters (make docker-down, make docker-cluster,
#              make docker-test at once), each asserted exact ($E2E_SEED_RUNS in all, default 5)
#   doctor     make docker-doctor: no error finding on the deployed Envoy, 30 live calls 10/10/10
#   watch      grpc-lb compose watch --format json --count 3 under a bounded load: 3 lines,
#              every replica in each, the replicas' rates adding up to the load's
#   scenarios  grpc-lb compose scenario all: kill, stop, pause, disconnect, scale, envoy-reload,
#              streams (30 long-lived streams through 3 → 6 replicas and a docker stop, about 45 s)
#   ctrl-c     SIGINT during a scenario run with --watch: exit 130, the replica put back, the
#              cluster whole, the live view drawn meanwhile
# then the TLS variant (deploy/compose/compose.tls.yaml; certificates made when missing):
#   tls-down      make docker-down (the plaintext cluster)
#   tls-cluster   make docker-cluster TLS=1
#   tls-seed      make docker-test TLS=1: 33/33/34 for 100 calls over TLS, asserted
#   tls-doctor    make docker-doctor: the same checks, the live calls over TLS
#   tls-rotation  grpc-lb compose scenario cert-rotation: every certificate and the CA
#                 rotated under load, 0 failed calls, new serials on the wire
#   teardown   make docker-down, and the engine if this run started it
# Exits non-zero on any failed check. Teardown runs on every exit (trap), and checks that no
# container, network or volume of the project is left. Reports go to $E2E_REPORT_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=e2e-compose
source scripts/docker/lib.sh

export IMAGES=standin
export ENVOY_PORT=${E2E_ENVOY_PORT:-10100}
PROJECT=grpc-envoy-lb
STATE=.tools/docker-engine/state
REPORT_DIR=${E2E_REPORT_DIR:-.tools/e2e-compose}
declare -a TIMINGS=()

# stage NAME CMD...: step() plus a line in the summary.
stage() {
  local name=$1 t0 rc=0
  shift
  t0=$(now_ms)
  say "== $name"
  "$@" || rc=$?
  TIMINGS+=("$(printf '%-12s %8s  %s' "$name" "$(elapsed_since "$t0")" "$( ((rc == 0)) && echo ok || echo "FAILED (exit $rc)")")")
  if ((rc != 0)); then
    say "stage '$name' failed (exit $rc)"
    exit "$rc"
  fi
}

# What `make docker-engine` records (a dockerd it started, a plugin link it made) is undone at
# the end only if this run recorded it; an engine already there before stays as it was.
had_state=0
[[ -f $STATE ]] && had_state=1

leftovers() {
  docker ps -aq --filter "label=com.docker.compose.project=$PROJECT"
  docker ps -aq --filter "label=io.grpc-envoy-lb.role=envoy-admin-relay"
  docker network ls -q --filter "label=com.docker.compose.project=$PROJECT"
  docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT"
}

teardown() {
  local rc=$? t0
  t0=$(now_ms)
  trap - EXIT INT TERM
  say "== teardown"
  if engine_answers; then
    docker ps -aq --filter "label=io.grpc-envoy-lb.role=envoy-admin-relay" | xargs -r docker rm -f >/dev/null || true
    make --no-print-directory docker-down >/dev/null 2>&1 || say "make docker-down failed"
    local left
    left=$(leftovers)
    if [[ -n $left ]]; then
      say "left behind: $(echo "$left" | tr '\n' ' ')"
      ((rc == 0)) && rc=1
    else
      say "no container, network or volume of $PROJECT left"
    fi
  fi
  # Undo the engine step only if this run did it (E2E_KEEP_ENGINE=1 keeps it).
  if ((had_state == 0)) && [[ -f $STATE && ${E2E_KEEP_ENGINE:-} != 1 ]]; then
    if ! make --no-print-directory docker-engine-down; then
      say "make docker-engine-down failed"
      ((rc == 0)) && rc=1
    fi
  fi
  TIMINGS+=("$(printf '%-12s %8s' teardown "$(elapsed_since "$t0")")")
  say "stage timings:"
  printf '  %s\n' "${TIMINGS[@]}" >&2
  say "$( ((rc == 0)) && echo PASS || echo "FAIL (exit $rc)") in $(elapsed_since "$T_ALL")"
  exit "$rc"
}
T_ALL=$(now_ms)
trap teardown EXIT
trap 'exit 130' INT TERM

SEED_RUNS=${E2E_SEED_RUNS:-5}
declare -a SEEDS=()

# seed_check [MAKE_VAR...]: make docker-test (with TLS=1: over TLS), the exact split asserted.
seed_check() {
  local out
  out=$(make --no-print-directory docker-test "$@" 2>&1) || { echo "$out" >&2; return 1; }
  echo "$out" | grep -vE '^ *Container ' >&2
  local summary
  summary=$(echo "$out" | grep -E 'backends? answered' || true)
  SEEDS+=("${summary##*: }")
  if [[ $summary != "3 backends answered 100 of 100 requests: 33/33/34" ]]; then
    say "seed check: expected '3 backends answered 100 of 100 requests: 33/33/34', got '${summary:-nothing}'"
    return 1
  fi
}

# The seed's sequence as a user runs it, on fresh clusters: docker-test right after docker-cluster.
seed_runs() {
  local i rc=0
  seed_check || rc=1
  for ((i = 2; i <= SEED_RUNS && rc == 0; i++)); do
    say "seed run $i of $SEED_RUNS: a fresh cluster, then docker-test at once"
    make --no-print-directory docker-down >/dev/null 2>&1 || { say "make docker-down failed"; return 1; }
    make --no-print-directory docker-cluster || return 1
    seed_check || rc=1
  done
  say "seed distributions over ${#SEEDS[@]} fresh cluster(s): ${SEEDS[*]}"
  return "$rc"
}

# scenarios [NAME [REPORT]]: grpc-lb compose scenario NAME (default all), the JSON reports in
# $REPORT_DIR/REPORT.jsonl (default scenarios), then shown as text.
scenarios() {
  local name=${1:-all} report=$REPORT_DIR/${2:-scenarios}.jsonl rc=0
  mkdir -p "$REPORT_DIR"
  ./bin/grpc-lb compose scenario "$name" --json >"$report" || rc=$?
  # The human-readable verdicts, from the JSON reports.
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { formatScenarioReport } from "./dist/src/scenarios/report.js";
    for (const line of readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean))
      process.stderr.write(formatScenarioReport(JSON.parse(line)));
  ' "$report"
  say "JSON reports in $report"
  return "$rc"
}

# compose watch under a bounded load (100 calls/s for at most 20 s, stopped once the watch ends):
# 3 JSON lines, each with every replica; from the second on (the first interval may hold the
# load's start) the replicas' rates add up to the load's, within 30 %.
watch_check() {
  local out rc=0 load
  ./bin/grpc-lb load --target "127.0.0.1:$ENVOY_PORT" --rps 100 -z 20s >/dev/null 2>&1 &
  load=$!
  out=$(./bin/grpc-lb compose watch --port "$ENVOY_PORT" --format json --count 3 --interval 1s) || rc=$?
  kill -INT "$load" 2>/dev/null || true
  wait "$load" || true
  ((rc == 0)) || { say "compose watch exited $rc"; return 1; }
  echo "$out" >&2
  node --input-type=module -e '
    const lines = process.argv[1].split("\n").filter(Boolean).map((l) => JSON.parse(l));
    if (lines.length !== 3) throw new Error(`expected 3 lines, got ${lines.length}`);
    for (const [i, l] of lines.entries()) {
      if (l.hosts.length !== 3) throw new Error(`expected 3 replicas, got ${l.hosts.length}`);
      const rps = l.hosts.reduce((t, h) => t + h.rps, 0);
      if (i > 0 && (rps < 70 || rps > 130)) throw new Error(`the replicas add up to ${rps} calls/s, not about 100`);
    }
  ' "$out"
}

# A child that exited stays a zombie until `wait` reaps it: that counts as exited too.
exited() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1" 2>/dev/null) == Z* ]]; }
paused_replicas() { docker ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter status=paused; }
some_replica_paused() { [[ -n $(paused_replicas) ]]; }

running_replicas() {
  docker ps -q --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=server" --filter status=running | wc -l
}
replicas_are() { [[ $(running_replicas) -eq $1 ]]; }

# interrupt_scenario NAME WHAT SECONDS CHECK...: runs `grpc-lb compose scenario NAME`, waits until
# CHECK holds (the moment WHAT), sends Ctrl-C, and expects exit 130 within 15 s. The run's output
# goes to $REPORT_DIR/interrupt-NAME.log and is shown when anything is off.
interrupt_scenario() {
  local name=$1 what=$2 seconds=$3 log=$REPORT_DIR/interrupt-$1.log pid rc=0 t0
  shift 3
  mkdir -p "$REPORT_DIR"
  # shellcheck disable=SC2086 # SCENARIO_ARGS: extra flags, word-split on purpose
  ./bin/grpc-lb compose scenario "$name" ${SCENARIO_ARGS:-} >"$log" 2>&1 &
  pid=$!
  if ! wait_until "$what" "$seconds" "$@"; then
    kill -INT "$pid" 2>/dev/null || true
    wait_until "the scenario (pid $pid) to exit after Ctrl-C" 15 exited "$pid" || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || true
    cat "$log" >&2
    return 1
  fi
  t0=$(now_ms)
  kill -INT "$pid"
  # Ctrl-C must end the scenario promptly: give it 15 s, then fail (and kill it).
  if ! wait_until "the scenario (pid $pid) to exit after Ctrl-C" 15 exited "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" || true
    say "the scenario did not exit within 15 s of Ctrl-C:"
    cat "$log" >&2
    return 1
  fi
  wait "$pid" || rc=$?
  say "exit $rc $(($(now_ms) - t0)) ms after Ctrl-C; $(running_replicas) replicas running"
  if ((rc != 130)); then
    say "expected exit 130 after Ctrl-C, got $rc:"
    cat "$log" >&2
    return 1
  fi
}

# Ctrl-C in the middle of a scenario shown live (--watch): exit 130, the frozen replica thawed,
# the cluster whole again, and the live view drawn meanwhile.
interrupt_check() {
  SCENARIO_ARGS=--watch interrupt_scenario pause "the pause scenario to freeze a replica" 60 some_replica_paused || return 1
  grep -q "cluster 'server'" "$REPORT_DIR/interrupt-pause.log" || { say "--watch drew no view of cluster 'server'"; return 1; }
  [[ -z $(paused_replicas) ]] || { say "a replica is still paused after Ctrl-C"; return 1; }
  scripts/docker/wait-envoy.sh deploy/compose/compose.yaml 30
}

# Ctrl-C while scaled to 6: exit 130 within seconds, and the project back at 3 replicas.
interrupt_scale() {
  interrupt_scenario scale "the scale scenario to run 6 replicas" 120 replicas_are 6 || return 1
  replicas_are 3 || { say "expected 3 running replicas after Ctrl-C, found $(running_replicas)"; return 1; }
  scripts/docker/wait-envoy.sh deploy/compose/compose.yaml 60
}

stage engine make --no-print-directory docker-engine
# A cluster left by an earlier run would make the checks meaningless: start from none.
[[ -z $(leftovers) ]] || stage clean make --no-print-directory docker-down
stage images make --no-print-directory docker-images
stage cluster make --no-print-directory docker-cluster
stage seed seed_runs
stage doctor make --no-print-directory docker-doctor
stage watch watch_check
stage scenarios scenarios
stage ctrl-c interrupt_check
stage ctrl-c-scale interrupt_scale

# The TLS variant, from the plaintext cluster's end: certificates (made when missing), the
# seed's exact split over TLS, doctor, and every certificate rotated under load.
stage tls-down make --no-print-directory docker-down
stage tls-cluster make --no-print-directory docker-cluster TLS=1
stage tls-seed seed_check TLS=1
stage tls-doctor make --no-print-directory docker-doctor
stage tls-rotation scenarios cert-rotation cert-rotation
