# What up.sh writes for the local cluster (sourced after lib.sh, not run): the PKI,
# tokens and kubeconfigs, the pause and CoreDNS images, and the configuration of
# containerd, CNI, the kubelet and kube-proxy.

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
  # Where the host lacks CAP_SYS_RESOURCE (as in some VMs and containers) runc cannot lower a
  # sandbox's oom_score_adj; restricting it to the parent's value works either way.
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
# How often each pod is synced, and with it how soon an updated Secret or ConfigMap shows in
# its volume (kubelet swaps the volume's ..data link on the pod's next sync; the default 1m
# means up to 90 s with jitter). 5 s lets 'grpc-lb k8s scenario cert-rotation' rotate six
# times in about a minute on this throwaway cluster; a real cluster keeps its own setting.
syncFrequency: 5s
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
