# Shared helpers for the scripts in scripts/k8s-local (sourced, not run).
# Every step prints what it does and how long it took; a failure names the step.

K8S_VERSION="${K8S_VERSION:-v1.34.3}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.12.1}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="${REPO_ROOT}/.tools"
# Built binaries, keyed by version; K8S_BUILD_DIR builds elsewhere (e.g. to time a cold build).
BUILD_DIR="${K8S_BUILD_DIR:-${TOOLS_DIR}}"
K8S_BIN_DIR="${BUILD_DIR}/k8s-${K8S_VERSION}/bin"
COREDNS_BIN="${BUILD_DIR}/coredns-${COREDNS_VERSION}/bin/coredns"
PAUSE_DIR="${BUILD_DIR}/k8s-pause-1"
# Everything the running cluster owns lives under one directory, removed by down.
STATE_DIR="${K8S_LOCAL_DIR:-${TOOLS_DIR}/k8s-local}"

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

# cert NAME CN ORG SANS — a key and a certificate signed by the cluster CA.
cert() {
  local name=$1 cn=$2 org=$3 sans=$4 p="${STATE_DIR}/pki"
  local subj="/CN=${cn}"
  [[ -n "${org}" ]] && subj="/O=${org}${subj}"
  openssl req -new -newkey rsa:2048 -nodes -keyout "${p}/${name}.key" -subj "${subj}" -out "${p}/${name}.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "${sans}" ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=${sans}"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"${p}/${name}.ext"
  openssl x509 -req -in "${p}/${name}.csr" -CA "${p}/ca.crt" -CAkey "${p}/ca.key" -CAcreateserial \
    -days 7 -sha256 -extfile "${p}/${name}.ext" -out "${p}/${name}.crt" 2>/dev/null
}

make_pki() {
  local node_ip=$1 p="${STATE_DIR}/pki"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "${p}/ca.key" -subj "/CN=grpc-lb-local-ca" \
    -days 7 -sha256 -out "${p}/ca.crt" 2>/dev/null
  cert apiserver kube-apiserver "" \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.96.0.1,IP:127.0.0.1,IP:${node_ip}"
  # The API server calls kubelets (logs, exec, port-forward) as a cluster admin.
  cert apiserver-kubelet kube-apiserver-kubelet-client system:masters ""
  openssl genrsa -out "${p}/sa.key" 2048 2>/dev/null
  openssl rsa -in "${p}/sa.key" -pubout -out "${p}/sa.pub" 2>/dev/null
  chmod 600 "${p}"/*.key
}

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
  local file=$1 user=$2 token=$3 server="https://$(cat "${STATE_DIR}/node-ip"):6443"
  local cfg=(--kubeconfig "${file}")
  "${KUBECTL}" "${cfg[@]}" config set-cluster grpc-lb-local --server "${server}" \
    --certificate-authority "${STATE_DIR}/pki/ca.crt" --embed-certs >/dev/null
  "${KUBECTL}" "${cfg[@]}" config set-credentials "${user}" --token "${token}" >/dev/null
  "${KUBECTL}" "${cfg[@]}" config set-context grpc-lb-local --cluster grpc-lb-local --user "${user}" >/dev/null
  "${KUBECTL}" "${cfg[@]}" config use-context grpc-lb-local >/dev/null
  chmod 600 "${file}"
}

write_auth() {
  local tokens="${STATE_DIR}/pki/tokens.csv" t
  : >"${tokens}"
  chmod 600 "${tokens}"
  add() {
    t=$(openssl rand -hex 16)
    echo "${t},$1,$1,\"$2\"" >>"${tokens}"
    write_kubeconfig "$3" "$1" "${t}"
  }
  add admin system:masters "${KUBECONFIG_PATH}"
  add system:kube-controller-manager "" "${STATE_DIR}/kubeconfig-controller-manager"
  add system:kube-scheduler "" "${STATE_DIR}/kubeconfig-scheduler"
  add "system:node:${NODE_NAME}" system:nodes "${STATE_DIR}/kubeconfig-kubelet"
  add system:kube-proxy "" "${STATE_DIR}/kubeconfig-kube-proxy"
  sed -i 's/,""$//' "${tokens}"
}

build_local_images() {
  local img="${STATE_DIR}/images" root
  if [[ ! -x "${PAUSE_DIR}/pause" ]]; then
    mkdir -p "${PAUSE_DIR}"
    gcc -static -Os -s -o "${PAUSE_DIR}/pause" "${REPO_ROOT}/scripts/k8s-local/pause.c"
  fi
  root=$(mktemp -d)
  cp "${PAUSE_DIR}/pause" "${root}/pause"
  "${REPO_ROOT}/scripts/k8s-local/image-archive.sh" "${PAUSE_IMAGE}" "${root}" "${img}/pause.tar" /pause >/dev/null
  rm -rf "${root}"
  root=$(mktemp -d)
  cp "${COREDNS_BIN}" "${root}/coredns"
  "${REPO_ROOT}/scripts/k8s-local/image-archive.sh" "grpc-lb-local/coredns:${COREDNS_VERSION}" "${root}" \
    "${img}/coredns.tar" /coredns >/dev/null
  rm -rf "${root}"
}

write_containerd_config() {
  local s="${STATE_DIR}"
  cat >"${s}/containerd/config.toml" <<TOML
version = 2
root = "${s}/containerd/root"
state = "${s}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "${CONTAINERD_SOCK}"

[ttrpc]
  address = "${s}/run/containerd.ttrpc.sock"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "${s}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This VM lacks CAP_SYS_RESOURCE: runc cannot lower a sandbox's oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${s}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${s}/cni/net.d"
TOML
}

write_cni_config() {
  cat >"${STATE_DIR}/cni/net.d/10-grpc-lb.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "${CNI_NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${CNI_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${STATE_DIR}/cni/ipam",
        "ranges": [[{"subnet": "${POD_CIDR}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
JSON
}

write_kubelet_config() {
  # Pods get a resolver file of their own: the machine's resolver is not reachable from pods.
  echo "# no upstream resolver for the local cluster's pods" >"${STATE_DIR}/resolv.conf"
  cat >"${STATE_DIR}/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(cat "${STATE_DIR}/node-ip")
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${STATE_DIR}/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${CONTAINERD_SOCK}
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
resolvConf: ${STATE_DIR}/resolv.conf
podCIDR: ${POD_CIDR}
maxPods: 60
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
YAML
}

write_kube_proxy_config() {
  cat >"${STATE_DIR}/kube-proxy-config.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: ${POD_CIDR}
bindAddress: 127.0.0.1
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: [primary]
clientConnection: {kubeconfig: ${STATE_DIR}/kubeconfig-kube-proxy}
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
}
