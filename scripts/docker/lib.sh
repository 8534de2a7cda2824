# Shared by the scripts in scripts/docker/ (sourced, not run).
# step NAME CMD...: prints what it does, runs it, prints how long it took;
# on failure says which step failed and exits with the command's status.

LOG_PREFIX=${LOG_PREFIX:-docker}

say() { printf '%s: %s\n' "$LOG_PREFIX" "$*" >&2; }

die() {
  say "error: $*"
  exit 1
}

now_ms() { date +%s%3N; }

step() {
  local name=$1
  shift
  local t0 rc=0
  t0=$(now_ms)
  say "$name ..."
  "$@" || rc=$?
  if ((rc != 0)); then
    say "step '$name' failed (exit $rc) after $(elapsed_since "$t0")"
    exit "$rc"
  fi
  say "$name: done in $(elapsed_since "$t0")"
}

elapsed_since() {
  local ms=$(($(now_ms) - $1))
  printf '%d.%01d s' $((ms / 1000)) $(((ms % 1000) / 100))
}

# wait_until DESCRIPTION TIMEOUT_S CMD...: polls CMD every 0.2 s until it succeeds or the deadline passes.
wait_until() {
  local what=$1 timeout_s=$2
  shift 2
  local deadline=$(($(now_ms) + timeout_s * 1000))
  until "$@" >/dev/null 2>&1; do
    if (($(now_ms) > deadline)); then
      say "gave up after ${timeout_s} s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

# True when this machine is disposable or its owner opted in to installing system packages.
install_allowed() { [[ ${CI:-} == true || ${GRPC_LB_ALLOW_INSTALL:-} == 1 ]]; }

engine_answers() { timeout 10 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }
