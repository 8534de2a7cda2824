#!/usr/bin/env bash
# Start a throwaway single-node Kubernetes on this machine (Linux, root, opt-in):
# etcd, kube-apiserver, controller-manager, scheduler, a containerd of its own,
# kubelet, kube-proxy (iptables) and CoreDNS. Idempotent: when the cluster
# already answers, it only says so. A failed start is undone by down.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/config.sh"

require_opt_in
[[ "$(uname -s)" == Linux ]] || die "a local cluster needs Linux (this is $(uname -s)); use kind or minikube instead (docs/kubernetes.md)"
((EUID == 0)) || die "a local cluster needs root (it runs containerd, the kubelet and iptables); run as root or use kind/minikube"

if [[ -f "${KUBECONFIG_PATH}" ]] && "${KUBECTL}" --kubeconfig "${KUBECONFIG_PATH}" --request-timeout=3s get --raw /readyz >/dev/null 2>&1; then
  log "the local cluster is already up (KUBECONFIG=${KUBECONFIG_PATH})"
  exit 0
fi

started=0
finish() {
  local rc=$?
  on_fail "${rc}" || true
  if ((rc != 0)); then
    show_log_tails
    log "undoing the failed start"
    "${REPO_ROOT}/scripts/k8s-local/down.sh" || true
  fi
  exit "${rc}"
}
trap finish EXIT
t0=$(date +%s%N)

if [[ -d "${STATE_DIR}" ]]; then
  step "remove what a previous run left behind"
  "${REPO_ROOT}/scripts/k8s-local/down.sh"
fi

step "check the host tools (etcd, containerd, runc, CNI plugins, conntrack, iptables)"
install_host_packages

step "build Kubernetes ${K8S_VERSION} and CoreDNS ${COREDNS_VERSION} (cached under .tools/)"
"${REPO_ROOT}/scripts/k8s-local/build.sh" all

step "check that the cluster's ports are free"
for port in "${ETCD_PORT}" "${ETCD_PEER_PORT}" 6443 10248 10249 10250 10256 10257 10259; do
  if ss -Htln "sport = :${port}" | grep -q .; then die "port ${port} is in use: $(ss -Htlnp "sport = :${port}" | head -1)"; fi
done

mkdir -p "${STATE_DIR}"/{pki,logs,pids,etcd,run,cni/net.d,cni/ipam,containerd,kubelet,images}
S="${STATE_DIR}"
# Paths the kubelet, CNI and containerd's shims use whatever the flags say: down removes the ones we created.
for d in /var/lib/kubelet /var/lib/cni /var/log/pods /var/log/containers /run/containerd; do
  [[ -e "${d}" ]] || echo "${d}" >>"${S}/created-paths"
done

NODE_IP=$(node_ip)
echo "${NODE_IP}" >"${S}/node-ip"
log "node ${NODE_NAME} at ${NODE_IP}"

step "make the CA and certificates (openssl)"
make_pki "${NODE_IP}"

step "write the tokens and kubeconfigs"
write_auth "${NODE_IP}"

step "build the pause and CoreDNS images (no registry: one-layer archives)"
build_local_images

step "start etcd $(etcd --version | sed -n 's/^etcd Version: //p')"
start_bg etcd etcd --name grpc-lb-local --data-dir "${S}/etcd" \
  --listen-client-urls "http://127.0.0.1:${ETCD_PORT}" --advertise-client-urls "http://127.0.0.1:${ETCD_PORT}" \
  --listen-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" --initial-advertise-peer-urls "http://127.0.0.1:${ETCD_PEER_PORT}" \
  --initial-cluster "grpc-lb-local=http://127.0.0.1:${ETCD_PEER_PORT}"
wait_up etcd "etcd to answer" 30 curl -fsS "http://127.0.0.1:${ETCD_PORT}/health"

step "start kube-apiserver"
start_bg kube-apiserver "${K8S_BIN_DIR}/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:${ETCD_PORT}" \
  --bind-address "${NODE_IP}" --advertise-address "${NODE_IP}" --secure-port 6443 \
  --service-cluster-ip-range 10.96.0.0/16 \
  --tls-cert-file "${S}/pki/apiserver.crt" --tls-private-key-file "${S}/pki/apiserver.key" \
  --client-ca-file "${S}/pki/ca.crt" --token-auth-file "${S}/pki/tokens.csv" \
  --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "${S}/pki/sa.pub" --service-account-signing-key-file "${S}/pki/sa.key" \
  --kubelet-client-certificate "${S}/pki/apiserver-kubelet.crt" --kubelet-client-key "${S}/pki/apiserver-kubelet.key" \
  --kubelet-preferred-address-types InternalIP --profiling=false
wait_up kube-apiserver "kube-apiserver /readyz" 90 kc get --raw /readyz

step "start kube-controller-manager and kube-scheduler"
start_bg kube-controller-manager "${K8S_BIN_DIR}/kube-controller-manager" \
  --kubeconfig "${S}/kubeconfig-controller-manager" --bind-address 127.0.0.1 --leader-elect=false \
  --service-account-private-key-file "${S}/pki/sa.key" --root-ca-file "${S}/pki/ca.crt" \
  --use-service-account-credentials --service-cluster-ip-range 10.96.0.0/16 --profiling=false
start_bg kube-scheduler "${K8S_BIN_DIR}/kube-scheduler" \
  --kubeconfig "${S}/kubeconfig-scheduler" --bind-address 127.0.0.1 --leader-elect=false --profiling=false

step "start containerd (its own root, state and socket)"
write_containerd_config
start_bg containerd containerd --config "${S}/containerd/config.toml"
wait_up containerd "containerd's socket" 30 ctr -a "${CONTAINERD_SOCK}" version

step "import the pause and CoreDNS images into containerd"
for archive in "${S}"/images/*.tar; do
  ctr -n k8s.io -a "${CONTAINERD_SOCK}" images import "${archive}" >/dev/null
done

step "open the FORWARD chain for the CNI bridge ${CNI_BRIDGE}"
write_cni_config
for dir in -i -o; do
  iptables -C FORWARD "${dir}" "${CNI_BRIDGE}" -m comment --comment "${IPT_COMMENT}" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD 1 "${dir}" "${CNI_BRIDGE}" -m comment --comment "${IPT_COMMENT}" -j ACCEPT
done

step "start the kubelet"
write_kubelet_config
start_bg kubelet "${K8S_BIN_DIR}/kubelet" --config "${S}/kubelet-config.yaml" \
  --kubeconfig "${S}/kubeconfig-kubelet" --root-dir "${S}/kubelet" --cert-dir "${S}/kubelet/pki" \
  --node-ip "${NODE_IP}" --hostname-override "${NODE_NAME}"
wait_up kubelet "node ${NODE_NAME} Ready" 90 node_ready

step "start kube-proxy (iptables mode)"
write_kube_proxy_config
start_bg kube-proxy "${K8S_BIN_DIR}/kube-proxy" --config "${S}/kube-proxy-config.yaml" --hostname-override "${NODE_NAME}"
wait_up kube-proxy "kube-proxy's health endpoint" 30 curl -fsS http://127.0.0.1:10256/healthz

step "deploy CoreDNS and wait until it is Ready"
sed "s/COREDNS_VERSION/${COREDNS_VERSION}/" "${REPO_ROOT}/scripts/k8s-local/addons.yaml" | kc apply -f - >/dev/null
wait_for "the default service account" 30 kc -n default get serviceaccount default
kc -n kube-system rollout status deployment/coredns --timeout=120s

step_done
ms=$((($(date +%s%N) - t0) / 1000000))
log "the local cluster is up in $(fmt_ms "${ms}"); KUBECONFIG=${KUBECONFIG_PATH}"
kc version
