#!/usr/bin/env bash
# kustomize-dir.sh headless|clusterip|tls|xds — the deploy/k8s directory the k8s-* targets apply:
# base (or overlays/clusterip, overlays/tls, overlays/xds) on the user's cluster; the stand-in-Envoy overlays
# on the local one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
local_cluster=false
[[ -f "${KUBECONFIG_PATH}" ]] && local_cluster=true
case "${1:-}:${local_cluster}" in
  headless:false) echo deploy/k8s/base ;;
  headless:true) echo deploy/k8s/overlays/local ;;
  clusterip:false) echo deploy/k8s/overlays/clusterip ;;
  clusterip:true) echo deploy/k8s/overlays/local-clusterip ;;
  tls:false) echo deploy/k8s/overlays/tls ;;
  tls:true) echo deploy/k8s/overlays/local-tls ;;
  xds:false) echo deploy/k8s/overlays/xds ;;
  xds:true) echo deploy/k8s/overlays/local-xds ;;
  *)
    echo "usage: kustomize-dir.sh headless|clusterip|tls|xds" >&2
    exit 2
    ;;
esac
