#!/usr/bin/env bash
# make e2e-k8s: from nothing to every Kubernetes check and back to nothing.
# Docker engine and images (for the server and stand-in Envoy images), the local
# cluster, the seed's targets with their distributions asserted, every day-two
# scenario (long-lived streams through a scale-out and a rollout too; one shown live with --watch),
# k8s watch on every Envoy pod, the seed, a rollout, a scale-out and the loss of an xDS replica with Envoy fed
# by xDS (overlays/xds), then the same seed over TLS (overlays/tls), the servers' refusal of a
# client without Envoy's certificate and the certificate rotation, teardown. Non-zero on any failed check; stage timings at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

require_opt_in
# Not 10000: other things on this machine (the lab, other tests) use it.
E2E_PORT="${K8S_E2E_PORT:-10780}"
REPORTS="${K8S_E2E_REPORTS:-${TOOLS_DIR}/e2e-k8s}"
MAKE_=(make --no-print-directory)
GRPC_LB="${REPO_ROOT}/bin/grpc-lb"
timings=()
failures=()
forward_pid=""
made_certs=false
engine_was_up=false
docker info >/dev/null 2>&1 && engine_was_up=true
t_all=$(date +%s%N)

stage() {
  step_done_e2e
  _e2e_stage="$1"
  _e2e_start=$(date +%s%N)
  printf '\n=== e2e-k8s: %s\n' "$1" >&2
}
step_done_e2e() {
  if [[ -n "${_e2e_stage:-}" ]]; then
    timings+=("$(printf '%-58s %8s' "${_e2e_stage}" "$(fmt_ms $((($(date +%s%N) - _e2e_start) / 1000000)))")")
    _e2e_stage=""
  fi
}

# expect NAME PATTERN FILE — a check on a command's output.
expect() {
  if grep -qE "$2" "$3"; then
    log "check ok: $1"
  else
    log "CHECK FAILED: $1 (wanted /$2/ in ${3#"${REPO_ROOT}/"}):"
    tail -5 "$3" >&2
    failures+=("$1")
  fi
}

stop_forward() {
  if [[ -n "${forward_pid}" ]]; then
    kill -- "-${forward_pid}" 2>/dev/null || true
    wait "${forward_pid}" 2>/dev/null || true
    forward_pid=""
  fi
}

teardown() {
  local rc=$?
  set +e
  stop_forward
  stage "teardown: make k8s-local-down"
  "${MAKE_[@]}" k8s-local-down || failures+=("make k8s-local-down")
  # The TLS stages' certificate set (its keys included) goes with the cluster it was made for.
  [[ "${made_certs}" == true ]] && rm -rf "${REPO_ROOT}/.tools/k8s-certs"
  "${REPO_ROOT}/scripts/k8s-local/leftovers.sh" >&2 || failures+=("nothing of the local cluster left behind")
  if [[ "${engine_was_up}" == false ]] && "${MAKE_[@]}" -n docker-engine-down >/dev/null 2>&1; then
    "${MAKE_[@]}" docker-engine-down
  fi
  step_done_e2e
  printf '\n=== e2e-k8s: stage timings\n' >&2
  printf '  %s\n' "${timings[@]}" >&2
  printf '  %-58s %8s\n' "total" "$(fmt_ms $((($(date +%s%N) - t_all) / 1000000)))" >&2
  if ((${#failures[@]} > 0)); then
    log "FAILED checks:"
    printf '  %s\n' "${failures[@]}" >&2
    rc=1
  fi
  ((rc == 0)) && log "e2e-k8s passed" || log "e2e-k8s FAILED (exit ${rc})"
  exit "${rc}"
}
trap teardown EXIT
trap 'exit 130' INT TERM

mkdir -p "${REPORTS}"

stage "build the project (make setup)"
"${MAKE_[@]}" setup

stage "Docker engine and images (make docker-engine docker-images)"
if "${MAKE_[@]}" -n docker-engine >/dev/null 2>&1; then "${MAKE_[@]}" docker-engine; fi
docker info >/dev/null 2>&1 || die "no Docker engine answers: the images are built on one (make docker-engine)"
if "${MAKE_[@]}" -n docker-images >/dev/null 2>&1; then
  "${MAKE_[@]}" docker-images
else
  for image in grpc-envoy-lb:0.1.0 "${STANDIN_ENVOY_IMAGE}"; do
    docker image inspect "${image}" >/dev/null 2>&1 || die "image ${image} is missing and there is no make docker-images"
  done
fi

stage "the local cluster (make k8s-local-up)"
"${MAKE_[@]}" k8s-local-up
"${MAKE_[@]}" k8s-local-images

stage "headless: make k8s-cluster"
"${MAKE_[@]}" k8s-cluster
"${GRPC_LB}" k8s envoy-hosts --wait-ms 60000 | tee "${REPORTS}/hosts-headless.txt" >&2 ||
  failures+=("Envoy's cluster shows every pod IP (headless)")

stage "headless: make k8s-doctor"
"${MAKE_[@]}" k8s-doctor | tee "${REPORTS}/doctor-headless.txt" >&2 || failures+=("make k8s-doctor: no error finding")

stage "headless: make k8s-export K8S_PORT=${E2E_PORT} + make k8s-test"
setsid "${MAKE_[@]}" k8s-export K8S_PORT="${E2E_PORT}" >"${REPORTS}/export.log" 2>&1 &
forward_pid=$!
wait_for "the port-forward on 127.0.0.1:${E2E_PORT}" 30 grep -q "Forwarding from 127.0.0.1:${E2E_PORT}" "${REPORTS}/export.log"
"${MAKE_[@]}" k8s-test K8S_PORT="${E2E_PORT}" | tee "${REPORTS}/k8s-test-headless.txt" >&2
expect "k8s-test through the port-forward: 33/33/34" '^3 backends answered 100 of 100 requests: 33/33/34$' \
  "${REPORTS}/k8s-test-headless.txt"
stop_forward

# The seed's sequence as a user runs it, on fresh deployments: k8s-load right after k8s-cluster.
SEED_RUNS="${K8S_E2E_SEED_RUNS:-3}"
seeds=()
seed_load() {
  "${MAKE_[@]}" k8s-load | tee "${REPORTS}/k8s-load-$1.txt" >&2
  seeds+=("$(sed -nE 's/^[0-9]+ backends? answered [0-9]+ of [0-9]+ requests: //p' "${REPORTS}/k8s-load-$1.txt")")
  expect "k8s-load (Job) on fresh deployment $1: 33/33/34" '^3 backends answered 100 of 100 requests: 33/33/34$' \
    "${REPORTS}/k8s-load-$1.txt"
}
stage "headless: make k8s-load (the client Job), fresh deployment 1 of ${SEED_RUNS}"
seed_load 1
for ((run = 2; run <= SEED_RUNS; run++)); do
  stage "headless: make k8s-down k8s-cluster k8s-load, fresh deployment ${run} of ${SEED_RUNS}"
  "${MAKE_[@]}" k8s-down
  "${MAKE_[@]}" k8s-cluster
  seed_load "${run}"
done
log "k8s-load distributions on ${#seeds[@]} fresh deployment(s): ${seeds[*]}"

stage "ClusterIP: make k8s-compare"
"${MAKE_[@]}" k8s-compare | tee "${REPORTS}/k8s-compare.txt" >&2
expect "k8s-compare (ClusterIP): every call on one pod" '^1 backend answered 100 of 100 requests: 100$' \
  "${REPORTS}/k8s-compare.txt"
"${GRPC_LB}" k8s doctor >"${REPORTS}/doctor-clusterip.txt" || true
expect "k8s doctor (ClusterIP): one host, the signature of a ClusterIP" '^WARNING one-host  cluster server$' \
  "${REPORTS}/doctor-clusterip.txt"

stage "back to headless: make k8s-cluster + make k8s-load"
"${MAKE_[@]}" k8s-cluster
"${GRPC_LB}" k8s envoy-hosts --wait-ms 60000 | tee "${REPORTS}/hosts-back.txt" >&2 ||
  failures+=("Envoy's cluster shows every pod IP (back to headless)")
"${MAKE_[@]}" k8s-load | tee "${REPORTS}/k8s-load-back.txt" >&2
expect "back to headless: spread again (33/33/34)" '^3 backends answered 100 of 100 requests: 33/33/34$' \
  "${REPORTS}/k8s-load-back.txt"

# scenario NAME [REPORT [ARGS...]] — a day-two scenario as a check, its report in
# REPORTS/scenario-REPORT.json, its progress (and what --watch draws) in REPORTS/scenario-REPORT.log.
scenario() {
  local name="${2:-$1}" report="${REPORTS}/scenario-${2:-$1}.json" ok=true failed
  "${GRPC_LB}" k8s scenario "$1" --json "${@:3}" >"${report}" 2> >(tee "${REPORTS}/scenario-${name}.log" >&2) || ok=false
  # Every check on stderr; the failed ones on stdout, so that the summary at the end names them.
  failed=$(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const c of r.checks) console.error(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    console.error(`${r.scenario}: ${r.verdict}; ${r.requests.total} calls, ${r.requests.failed} failed; ` +
      Object.entries(r.measurements).map(([k, v]) => `${k} ${v}`).join("; "));
    console.log(r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; "));' \
    "${report}" || echo "no report")
  if [[ ${ok} == true ]]; then
    log "check ok: scenario ${name}"
  else
    failures+=("scenario ${name} (${failed:-no failed check: see its log})")
  fi
}
# delete-pod runs shown live (--watch): it must draw every Envoy pod's section on stderr.
for name in rollout scale delete-pod envoy-restart envoy-delete-pod envoy-scale streams; do
  if [[ ${name} == delete-pod ]]; then
    stage "day two: grpc-lb k8s scenario ${name} --watch"
    scenario "${name}" "${name}" --watch
    grep -q "pod/envoy-" "${REPORTS}/scenario-${name}.log" || {
      log "--watch drew no Envoy pod"
      failures+=("k8s scenario ${name} --watch")
    }
  else
    stage "day two: grpc-lb k8s scenario ${name}"
    scenario "${name}"
  fi
done

# k8s watch on every Envoy pod: 3 intervals, one JSON line per pod each, named pod/NAME, with
# the server pods among its hosts.
watch_check() {
  local out
  out=$("${GRPC_LB}" k8s watch --format json --count 3 --interval 1s) || { log "k8s watch failed"; return 1; }
  echo "${out}" >&2
  node --input-type=module -e '
    const lines = process.argv[1].split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const pods = [...new Set(lines.map((l) => l.admin))];
    if (pods.length !== 2 || !pods.every((p) => p.startsWith("pod/envoy-")))
      throw new Error(`expected the 2 Envoy pods, got ${pods.join(", ")}`);
    if (lines.length !== 6) throw new Error(`expected 3 lines per pod, got ${lines.length}`);
    // At least the 3 server pods: one the last scenario replaced may still be on its way out.
    for (const l of lines) if (!(l.hosts?.length >= 3)) throw new Error(`${l.admin}: ${l.hosts?.length} hosts, not 3`);
  ' "${out}"
}
stage "day two: grpc-lb k8s watch --format json --count 3"
if watch_check; then log "check ok: k8s watch shows every Envoy pod"; else failures+=("k8s watch"); fi

# Ctrl-C in the middle of a rollout: exit 130 promptly, the load and forwards stopped.
interrupt_rollout() {
  local log="${REPORTS}/interrupt-rollout.log" pid rc=0 t0
  "${GRPC_LB}" k8s scenario rollout >"${log}" 2>&1 &
  pid=$!
  if ! wait_for "the rollout scenario to restart deployment/server" 120 grep -q "kubectl rollout restart" "${log}"; then
    kill -INT "${pid}" 2>/dev/null || true
    wait "${pid}" 2>/dev/null || true
    return 1
  fi
  t0=$(date +%s%N)
  kill -INT "${pid}"
  # A child that exited stays a zombie until `wait` reaps it: bound the wait at 15 s.
  local deadline=$((SECONDS + 15))
  while kill -0 "${pid}" 2>/dev/null && [[ $(ps -o stat= -p "${pid}" 2>/dev/null) != Z* ]]; do
    if ((SECONDS > deadline)); then
      kill -KILL "${pid}" 2>/dev/null || true
      wait "${pid}" 2>/dev/null || true
      log "the scenario did not exit within 15 s of Ctrl-C"
      return 1
    fi
    sleep 0.05
  done
  wait "${pid}" || rc=$?
  log "exit ${rc} $(((($(date +%s%N) - t0) / 1000000))) ms after Ctrl-C"
  ((rc == 130)) || { tail -5 "${log}" >&2; return 1; }
  # The rollout itself goes on in the cluster: let it finish before the next step.
  "${REPO_ROOT}/scripts/k8s-local/kubectl.sh" -n grpc-lb rollout status deployment/server --timeout=180s >&2
}
stage "day two: Ctrl-C of grpc-lb k8s scenario rollout"
if interrupt_rollout; then log "check ok: Ctrl-C ends the rollout scenario with 130"; else failures+=("Ctrl-C of the rollout scenario"); fi

# xDS: a fresh deployment of overlays/xds (Envoy fed by EDS over ADS from grpc-lb xds-server,
# which watches the server Service's EndpointSlices): the seed's split, a rollout and a scale-out
# (a new pod must take calls within 2 s of Ready), and the loss of the xDS replica Envoy streams from.
stage "xDS: make k8s-down + make k8s-cluster DISCOVERY=xds + make k8s-load DISCOVERY=xds"
"${MAKE_[@]}" k8s-down
"${MAKE_[@]}" k8s-cluster DISCOVERY=xds
"${MAKE_[@]}" k8s-load DISCOVERY=xds | tee "${REPORTS}/k8s-load-xds.txt" >&2
expect "k8s-load by xDS (Job): 33/33/34" '^3 backends answered 100 of 100 requests: 33/33/34$' "${REPORTS}/k8s-load-xds.txt"
for name in rollout scale xds-delete-pod; do
  stage "xDS: grpc-lb k8s scenario ${name}"
  scenario "${name}" "${name#xds-}-xds"
done

# TLS: a fresh deployment of overlays/tls (TLS on Envoy's listener, mutual TLS to the servers),
# with a certificate set of its own.
stage "TLS: make k8s-down + make k8s-cluster TLS=1 (new certificates, Secrets, overlays/tls)"
"${MAKE_[@]}" k8s-down
rm -rf "${REPO_ROOT}/.tools/k8s-certs"
made_certs=true
"${MAKE_[@]}" k8s-cluster TLS=1

stage "TLS: make k8s-load TLS=1 (the client Job over TLS)"
"${MAKE_[@]}" k8s-load TLS=1 | tee "${REPORTS}/k8s-load-tls.txt" >&2
expect "k8s-load over TLS: 33/33/34" '^3 backends answered 100 of 100 requests: 33/33/34$' "${REPORTS}/k8s-load-tls.txt"

stage "TLS: make k8s-mtls-refusal (a client without Envoy's certificate, from another pod)"
"${MAKE_[@]}" k8s-mtls-refusal | tee "${REPORTS}/mtls-refusal.txt" >&2 || true
expect "every server pod refuses a client without Envoy's certificate" \
  '^every server pod \(3\) refused a client without Envoy.s certificate$' "${REPORTS}/mtls-refusal.txt"

stage "TLS: grpc-lb k8s scenario cert-rotation (Secret updates under load)"
scenario cert-rotation
step_done_e2e
