#!/usr/bin/env bash
# kubectl for the k8s-* targets: the local cluster when it exists (its kubeconfig
# and the kubectl built for it), otherwise the user's kubectl and current context.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [[ -f "${KUBECONFIG_PATH}" ]]; then
  export KUBECONFIG="${KUBECONFIG_PATH}"
  [[ -x "${KUBECTL}" ]] && exec "${KUBECTL}" "$@"
fi
command -v kubectl >/dev/null || die "no kubectl on PATH and no local cluster (make k8s-local-up)"
exec kubectl "$@"
