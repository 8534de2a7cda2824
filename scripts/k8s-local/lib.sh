# Shared helpers for the scripts in scripts/k8s-local (sourced, not run).
# Every step prints what it does and how long it took; a failure names the step.

K8S_VERSION="${K8S_VERSION:-v1.34.3}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.1}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# The Makefile passes its ENVOY_VERSION down; run by hand, a script reads it from the Makefile.
ENVOY_VERSION="${ENVOY_VERSION:-$(sed -n 's/^ENVOY_VERSION *:= *//p' "${REPO_ROOT}/Makefile")}"
[[ -n "${ENVOY_VERSION}" ]] || { echo "k8s-local: no ENVOY_VERSION in ${REPO_ROOT}/Makefile" >&2; exit 1; }
STANDIN_ENVOY_IMAGE="grpc-lb-standin/envoy:${ENVOY_VERSION}"
TOOLS_DIR="${REPO_ROOT}/.tools"
# Built binaries, keyed by version; K8S_BUILD_DIR builds elsewhere (e.g. to time a cold build).
BUILD_DIR="${K8S_BUILD_DIR:-${TOOLS_DIR}}"
K8S_BIN_DIR="${BUILD_DIR}/k8s-${K8S_VERSION}/bin"
COREDNS_BIN="${BUILD_DIR}/coredns-${COREDNS_VERSION}/bin/coredns"
PAUSE_DIR="${BUILD_DIR}/k8s-pause-1"
# Everything the running cluster owns lives under one directory, removed by down.
STATE_DIR="${K8S_LOCAL_DIR:-${TOOLS_DIR}/k8s-local}"
# The same with symlinks resolved, as /proc/self/mounts spells the kubelet's mounts (.tools may be a link).
STATE_DIR_REAL="$(realpath -m "${STATE_DIR}")"

_step_name=""
_step_start=0

log() { printf 'k8s-local: %s\n' "$*" >&2; }

die() {
  log "error: $*"
  exit 1
}

# step NAME — announce a step; the EXIT/ERR handler names it if the script fails.
step() {
  step_done
  _step_name="$1"
  _step_start=$(date +%s%N)
  log "▶ ${_step_name}"
}

step_done() {
  if [[ -n "${_step_name}" ]]; then
    local ms=$((($(date +%s%N) - _step_start) / 1000000))
    log "✓ ${_step_name} ($(fmt_ms "${ms}"))"
    _step_name=""
  fi
}

fmt_ms() {
  local ms=$1
  if ((ms < 1000)); then printf '%d ms' "${ms}"; else printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100)); fi
}

# on_fail — print which step failed; callers add component log tails.
on_fail() {
  local rc=${1:-$?}
  if ((rc != 0)) && [[ -n "${_step_name}" ]]; then
    log "✗ step failed: ${_step_name} (exit ${rc})"
  fi
  return "${rc}"
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND... — poll until COMMAND succeeds or the deadline passes.
wait_for() {
  local what=$1 timeout_s=$2
  shift 2
  local deadline=$(($(date +%s) + timeout_s))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) >= deadline)); then
      log "gave up after ${timeout_s} s waiting for ${what}"
      return 1
    fi
    sleep 0.5
  done
}

KUBECONFIG_PATH="${STATE_DIR}/kubeconfig"
KUBECTL="${K8S_BIN_DIR}/kubectl"
CONTAINERD_SOCK="${STATE_DIR}/run/containerd.sock"
NODE_NAME="grpc-lb-local"
CNI_BRIDGE="grpclb-cni0"
CNI_NETWORK="grpc-lb-local"
POD_CIDR="10.244.0.0/24"
IPT_COMMENT="grpc-lb k8s-local"
ETCD_PORT=12379
ETCD_PEER_PORT=12380
COMPONENTS=(kube-proxy kubelet containerd kube-scheduler kube-controller-manager kube-apiserver etcd)
PAUSE_IMAGE="grpc-lb-local/pause:1"

# kc ARGS... — kubectl against the local cluster.
kc() { "${KUBECTL}" --kubeconfig "${KUBECONFIG_PATH}" "$@"; }

# Installing packages and starting daemons as root changes the machine: the same opt-in as for Docker.
require_opt_in() {
  if [[ "${CI:-}" != true && "${GRPC_LB_ALLOW_INSTALL:-}" != 1 ]]; then
    echo "k8s-local: refusing to install packages and start a cluster on this machine without opt-in;" \
      "set GRPC_LB_ALLOW_INSTALL=1 (or CI=true) to allow it" >&2
    exit 2
  fi
}

install_host_packages() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  command -v conntrack >/dev/null || missing+=(conntrack)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)
  # ip and ss (iproute2) find the node address and check ports; setsid (util-linux) starts the
  # components; mount/umount (mount) tear down the kubelet's mounts.
  { command -v ip >/dev/null && command -v ss >/dev/null; } || missing+=(iproute2)
  command -v setsid >/dev/null || missing+=(util-linux)
  { command -v mount >/dev/null && command -v umount >/dev/null; } || missing+=(mount)
  command -v sha256sum >/dev/null || missing+=(coreutils)
  command -v tar >/dev/null || missing+=(tar)
  if ((${#missing[@]} > 0)); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
      { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
  fi
}

# The address the API server and kubelet bind: the source address of the default route's interface.
node_ip() {
  if [[ -n "${K8S_NODE_IP:-}" ]]; then
    echo "${K8S_NODE_IP}"
    return
  fi
  local dev ip
  dev=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1); exit}')
  [[ -n "${dev}" ]] || die "no default route to take the node address from; set K8S_NODE_IP"
  ip=$(ip -4 -o addr show dev "${dev}" | awk '{split($4, a, "/"); print a[1]; exit}')
  [[ -n "${ip}" ]] || die "interface ${dev} has no IPv4 address; set K8S_NODE_IP"
  echo "${ip}"
}

# start_bg NAME COMMAND... — run a component in its own session, log to logs/NAME.log, pid to pids/NAME.pid.
start_bg() {
  local name=$1
  shift
  setsid "$@" >"${STATE_DIR}/logs/${name}.log" 2>&1 </dev/null &
  echo $! >"${STATE_DIR}/pids/${name}.pid"
  sleep 0.2
  kill -0 "$(cat "${STATE_DIR}/pids/${name}.pid")" 2>/dev/null || die "${name} exited at once: $(tail -5 "${STATE_DIR}/logs/${name}.log")"
}

# wait_up NAME DESCRIPTION TIMEOUT_S COMMAND... — wait_for, but give up at once if component NAME has exited.
wait_up() {
  local name=$1 what=$2 timeout_s=$3
  shift 3
  local pid deadline=$(($(date +%s) + timeout_s))
  pid=$(cat "${STATE_DIR}/pids/${name}.pid")
  until "$@" >/dev/null 2>&1; do
    kill -0 "${pid}" 2>/dev/null || die "${name} exited while waiting for ${what}: $(tail -3 "${STATE_DIR}/logs/${name}.log")"
    if (($(date +%s) >= deadline)); then
      log "gave up after ${timeout_s} s waiting for ${what}"
      return 1
    fi
    sleep 0.5
  done
}

show_log_tails() {
  local f
  for f in "${STATE_DIR}"/logs/*.log; do
    [[ -f "${f}" ]] || continue
    log "--- last lines of ${f#"${REPO_ROOT}/"} ---"
    tail -8 "${f}" >&2
  done
}

node_ready() {
  [[ "$(kc get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
