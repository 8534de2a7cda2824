#!/usr/bin/env bash
# Build Kubernetes (server components and kubectl) and CoreDNS from the Go module
# proxy into .tools/, keyed by version. A second run with the binaries present does nothing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_fail EXIT

K8S_CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
what="${1:-all}"
case "${what}" in
  all | kubernetes | coredns) ;;
  *)
    echo "usage: build.sh [all|kubernetes|coredns]" >&2
    exit 2
    ;;
esac
command -v go >/dev/null || die "go is not installed (needed to build Kubernetes ${K8S_VERSION} and CoreDNS)"

build_kubernetes() {
  local missing=()
  for c in "${K8S_CMDS[@]}"; do [[ -x "${K8S_BIN_DIR}/${c}" ]] || missing+=("${c}"); done
  if ((${#missing[@]} == 0)); then
    log "Kubernetes ${K8S_VERSION} binaries already in ${K8S_BIN_DIR}"
    return
  fi
  local mod="${BUILD_DIR}/k8s-${K8S_VERSION}/src"
  step "write the wrapper module for k8s.io/kubernetes ${K8S_VERSION} (${mod})"
  rm -rf "${mod}"
  mkdir -p "${mod}" "${K8S_BIN_DIR}"
  # k8s.io/kubernetes replaces its staging modules with local paths, which a
  # dependent module cannot use: replace each with the published module at v0.x.y.
  local gomod staging_version="v0.${K8S_VERSION#v1.}"
  gomod=$(cd "${mod}" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -f "${gomod}" ]] || die "could not download k8s.io/kubernetes@${K8S_VERSION}'s go.mod"
  {
    echo "module grpclb.local/k8s-build"
    echo
    grep -E '^go [0-9.]+$' "${gomod}"
    echo
    echo "require k8s.io/kubernetes ${K8S_VERSION}"
    echo
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"${staging_version}"'#p' "${gomod}"
  } >"${mod}/go.mod"
  # Commands are main packages and cannot be imported; their app packages pull in the same graph.
  {
    printf 'package tools\n\nimport (\n'
    for p in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
      printf '\t_ "k8s.io/kubernetes/cmd/%s/app"\n' "${p}"
    done
    printf '\t_ "k8s.io/kubectl/pkg/cmd"\n)\n'
  } >"${mod}/tools.go"
  log "$(grep -c '^replace' "${mod}/go.mod") staging modules replaced"
  step "resolve the Kubernetes module graph (go mod tidy)"
  (cd "${mod}" && go mod tidy >/dev/null 2>"${mod}/tidy.log") || {
    tail -20 "${mod}/tidy.log" >&2
    false
  }
  local date ldflags=""
  date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
    ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${date}"
  done
  for c in "${missing[@]}"; do
    step "go build ${c} ${K8S_VERSION}"
    (cd "${mod}" && CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w${ldflags}" -o "${K8S_BIN_DIR}/${c}.tmp" \
      "k8s.io/kubernetes/cmd/${c}")
    mv "${K8S_BIN_DIR}/${c}.tmp" "${K8S_BIN_DIR}/${c}"
  done
  step_done
  "${K8S_BIN_DIR}/kubectl" version --client
}

build_coredns() {
  if [[ -x "${COREDNS_BIN}" ]]; then
    log "CoreDNS ${COREDNS_VERSION} already at ${COREDNS_BIN}"
    return
  fi
  local mod
  mod="$(dirname "$(dirname "${COREDNS_BIN}")")/src"
  step "write the wrapper main for CoreDNS ${COREDNS_VERSION} (${mod})"
  rm -rf "${mod}"
  mkdir -p "${mod}" "$(dirname "${COREDNS_BIN}")"
  cp "${REPO_ROOT}/scripts/k8s-local/coredns-main.go.txt" "${mod}/main.go"
  (cd "${mod}" && go mod init grpclb.local/coredns >/dev/null 2>&1)
  step "resolve CoreDNS ${COREDNS_VERSION} (go get, go mod tidy)"
  (cd "${mod}" && go get "github.com/coredns/coredns@${COREDNS_VERSION}" >"${mod}/get.log" 2>&1 &&
    go mod tidy >>"${mod}/get.log" 2>&1) || {
    tail -20 "${mod}/get.log" >&2
    false
  }
  step "go build coredns ${COREDNS_VERSION}"
  (cd "${mod}" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "${COREDNS_BIN}.tmp" .)
  mv "${COREDNS_BIN}.tmp" "${COREDNS_BIN}"
  step_done
  "${COREDNS_BIN}" -version
}

case "${what}" in
  all)
    build_kubernetes
    build_coredns
    ;;
  kubernetes) build_kubernetes ;;
  coredns) build_coredns ;;
esac
