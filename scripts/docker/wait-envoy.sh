#!/usr/bin/env bash
# Waits until Envoy of the running Compose project routes calls to every running server
# replica, so that `make docker-test` right after `make docker-cluster` sees them all.
# /clusters alone is not enough: it shows a new replica healthy up to one update merge window
# (1 s) before Envoy's load balancer uses it. `grpc-lb envoy-hosts` waits for /clusters and
# then confirms with calls through the listener. Envoy's admin API stays inside the Envoy
# container (127.0.0.1:9901): the wait runs in a throwaway container of the server image
# that joins Envoy's network namespace. Needs nothing but Docker.
# On the TLS variant (compose.tls.yaml: a certificates directory mounted at /etc/envoy/certs)
# the confirming calls speak TLS, trusting that directory's current/ca.crt: the same mount,
# read-only, in the throwaway container.
#   usage: wait-envoy.sh COMPOSE_FILE [TIMEOUT_S]
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=docker-cluster
source scripts/docker/lib.sh

COMPOSE_FILE=${1:?usage: wait-envoy.sh COMPOSE_FILE [TIMEOUT_S]}
TIMEOUT_S=${2:-60}
SERVER_IMAGE=${SERVER_IMAGE:-grpc-envoy-lb:0.1.0}
ADMIN_PORT=9901
LISTEN_PORT=10000
ENVOY_CERTS=/etc/envoy/certs

envoy=$(docker compose -f "$COMPOSE_FILE" ps -q envoy)
[[ -n $envoy ]] || die "no running envoy container in $COMPOSE_FILE's project; run 'make docker-cluster'"
want=$(docker compose -f "$COMPOSE_FILE" ps -q --status running server | wc -l)
((want > 0)) || die "no running server replica in $COMPOSE_FILE's project"

certs=$(docker inspect --format "{{range .Mounts}}{{if eq .Destination \"$ENVOY_CERTS\"}}{{.Source}}{{end}}{{end}}" "$envoy")
declare -a tls_mount=() tls_flags=()
if [[ -n $certs ]]; then
  tls_mount=(--volume "$certs:/certs:ro")
  # localhost: a name the listener certificate carries (an IP address is no SNI).
  tls_flags=(--cacert /certs/current/ca.crt --cname localhost)
fi

t0=$(now_ms)
docker run --rm --network "container:$envoy" --read-only --cap-drop ALL --security-opt no-new-privileges:true \
  --user 1000:1000 "${tls_mount[@]}" "$SERVER_IMAGE" grpc-lb envoy-hosts --admin "127.0.0.1:$ADMIN_PORT" \
  --listener "127.0.0.1:$LISTEN_PORT" --count "$want" --wait-ms $((TIMEOUT_S * 1000)) "${tls_flags[@]}" >&2 ||
  die "Envoy does not route to all $want server replicas after ${TIMEOUT_S} s (above: what it saw last)"
say "Envoy routes to all $want server replicas$([[ -n $certs ]] && echo " over TLS") ($(elapsed_since "$t0"))"
