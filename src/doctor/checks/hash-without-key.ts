import { DOCS } from "../finding.js";
import { type Check, perCluster } from "./check.js";

export const hashWithoutKey: Check = perCluster(
  "hash-without-key",
  "a hash policy (ring_hash, maglev) with no hash key on the route",
  (c, scope) => {
    const policy = String(c.config.lb_policy ?? "ROUND_ROBIN");
    if (policy !== "RING_HASH" && policy !== "MAGLEV") return undefined;
    const keyless = scope.routesTo(c.name).find((r) => !Array.isArray(r.route.hash_policy));
    if (keyless === undefined) return undefined;
    return {
      severity: "warning",
      subject: `route ${keyless.where}`,
      evidence: { field: "route.hash_policy", value: `absent (cluster ${c.name} lb_policy ${policy})` },
      why: "with nothing to hash, Envoy picks a random host for each call: no affinity, and less even than round robin",
      docs: `${DOCS}/api-v3/config/route/v3/route_components.proto#envoy-v3-api-msg-config-route-v3-routeaction-hashpolicy`,
      fix: {
        target: { kind: "route", where: keyless.where },
        patch: { hash_policy: [{ header: { header_name: "x-hash-key" } }] },
      },
    };
  },
);
