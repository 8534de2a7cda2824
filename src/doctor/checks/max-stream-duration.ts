import { DOCS } from "../finding.js";
import { durationMs, obj } from "../view/json.js";
import { type Check, check, managersInScope, routeFinding } from "./check.js";

const WHY =
  "Envoy resets every stream through it at that age: the stream is moved, which rebalances long-lived streams after a scale-out, but uncleanly: a gRPC client sees INTERNAL, not an end (docs/streams.md measures it), and must resume on its own; a maximum lifetime set by the server ends streams with OK instead. Leave it if that reset is the point";

/**
 * A finite max_stream_duration over the routes in scope: a route's own (RouteAction's
 * max_stream_duration.max_stream_duration) or, where a route sets none, its connection
 * manager's (common_http_protocol_options.max_stream_duration). A route's 0 disables the
 * manager's; grpc_timeout_header_max alone is the client's deadline, not a limit.
 */
export const maxStreamDuration: Check = check(
  "max-stream-duration",
  "a max_stream_duration that resets long-lived streams",
  (scope) =>
    managersInScope(scope).flatMap((m) => {
      const routes = m.routes.filter((r) => scope.routes.includes(r));
      const own = (r: (typeof routes)[number]) => obj(r.route.max_stream_duration).max_stream_duration;
      const byRoute = routes.flatMap((r) => {
        const ms = durationMs(own(r));
        if (ms === undefined || ms === 0) return [];
        return [
          routeFinding(
            r,
            {
              severity: "info",
              evidence: { field: "route.max_stream_duration.max_stream_duration", value: String(own(r)) },
              why: WHY,
              docs: `${DOCS}/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-routeaction-maxstreamduration-max-stream-duration`,
            },
            { max_stream_duration: { max_stream_duration: "0s" } },
          ),
        ];
      });
      const hcmValue = obj(m.config.common_http_protocol_options).max_stream_duration;
      const hcmMs = durationMs(hcmValue);
      // The manager's limit holds on the routes that set none of their own.
      const under = routes.filter((r) => own(r) === undefined);
      if (hcmMs === undefined || hcmMs === 0 || under.length === 0) return byRoute;
      return [
        ...byRoute,
        {
          // No fix to merge: the fix is removing the field (or a route's 0s, said in why).
          subject: `listener ${m.place}`,
          severity: "info" as const,
          evidence: {
            field: "common_http_protocol_options.max_stream_duration",
            value: `${String(hcmValue)} (on ${under.length} route${under.length === 1 ? "" : "s"} that set none)`,
          },
          why: `${WHY}; remove it, or set 0s as a route's max_stream_duration.max_stream_duration to lift it there`,
          docs: `${DOCS}/api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-httpprotocoloptions-max-stream-duration`,
        },
      ];
    }),
);
