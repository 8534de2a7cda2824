#!/usr/bin/env bash
# Load the project's images from the Docker engine into the local cluster's
# containerd (no registry): docker save | ctr images import. Skips an image whose
# Docker image ID was already loaded.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap on_fail EXIT

IMAGES=("${@}")
((${#IMAGES[@]} > 0)) || IMAGES=(grpc-envoy-lb:0.1.0 "${STANDIN_ENVOY_IMAGE}")
[[ -S "${CONTAINERD_SOCK}" ]] || die "the local cluster is not up (no ${CONTAINERD_SOCK}); run make k8s-local-up"
command -v docker >/dev/null || die "docker is not installed: the images come from a Docker engine (make docker-images)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (make docker-engine)"
mkdir -p "${STATE_DIR}/images"
for image in "${IMAGES[@]}"; do
  id=$(docker image inspect --format '{{.Id}}' "${image}" 2>/dev/null) ||
    die "image ${image} is not in the Docker engine; build it first (make docker-images)"
  mark="${STATE_DIR}/images/$(echo "${image}" | tr '/:' '__').id"
  if [[ -f "${mark}" && "$(cat "${mark}")" == "${id}" ]]; then
    log "${image} already loaded (${id:7:12})"
    continue
  fi
  step "load ${image} (${id:7:12}) into the cluster's containerd"
  docker save "${image}" | ctr -n k8s.io -a "${CONTAINERD_SOCK}" images import - >/dev/null
  echo "${id}" >"${mark}"
done
step_done
