#!/usr/bin/env bash
# Waits until Envoy of the running Compose project routes to every running server replica
# (all listed by DNS and healthy), so that `make docker-test` right after `make docker-cluster`
# sees them all. Envoy's admin API stays inside the Envoy container (127.0.0.1:9901): the wait
# runs in a throwaway container that joins Envoy's network namespace, from the server image,
# which has node. Needs nothing but Docker.
#   usage: wait-envoy.sh COMPOSE_FILE [TIMEOUT_S]
set -euo pipefail
cd "$(dirname "$0")/../.."
LOG_PREFIX=docker-cluster
source scripts/docker/lib.sh

COMPOSE_FILE=${1:?usage: wait-envoy.sh COMPOSE_FILE [TIMEOUT_S]}
TIMEOUT_S=${2:-60}
SERVER_IMAGE=${SERVER_IMAGE:-grpc-envoy-lb:0.1.0}
ADMIN_PORT=9901

envoy=$(docker compose -f "$COMPOSE_FILE" ps -q envoy)
[[ -n $envoy ]] || die "no running envoy container in $COMPOSE_FILE's project; run 'make docker-cluster'"
want=$(docker compose -f "$COMPOSE_FILE" ps -q --status running server | wc -l)
((want > 0)) || die "no running server replica in $COMPOSE_FILE's project"

# A host is routed to when no health flag is set (the same rule as src/envoy/admin.ts).
script='
const [want, port, timeoutS] = process.argv.slice(1).map(Number);
const deadline = Date.now() + timeoutS * 1000;
const routed = (h) => {
  const s = h.health_status ?? {};
  return (s.eds_health_status ?? "HEALTHY") === "HEALTHY" &&
    !Object.entries(s).some(([k, v]) => k !== "eds_health_status" && v === true);
};
(async () => {
  for (;;) {
    let seen = "no answer yet";
    try {
      const res = await fetch(`http://127.0.0.1:${port}/clusters?format=json`);
      const hosts = ((await res.json()).cluster_statuses ?? []).find((c) => c.name === "server")?.host_statuses ?? [];
      seen = `${hosts.filter(routed).length} of ${hosts.length} hosts healthy`;
      if (hosts.length === want && hosts.every(routed)) return;
    } catch (e) {
      seen = e.message;
    }
    if (Date.now() > deadline) {
      console.error(`gave up after ${timeoutS} s waiting for Envoy to route to ${want} servers (last seen: ${seen})`);
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
})();
'
t0=$(now_ms)
docker run --rm --network "container:$envoy" --read-only --cap-drop ALL --security-opt no-new-privileges:true \
  --user 1000:1000 "$SERVER_IMAGE" node -e "$script" "$want" "$ADMIN_PORT" "$TIMEOUT_S"
say "Envoy routes to all $want server replicas ($(elapsed_since "$t0"))"
