import { isIP } from "node:net";
import { about, type Check, perCluster } from "./checks-cluster.js";
import { durationMs, type Json, type ListenerView, obj, type RouteView } from "./envoy-view.js";
import { DOCS, type Finding } from "./finding.js";
import type { Scope } from "./scope.js";

/** retry_on conditions that retry a call a lost or refusing server failed (gRPC's UNAVAILABLE among them). */
const RETRYABLE = ["unavailable", "reset", "connect-failure", "refused-stream", "5xx", "gateway-error"];
/** HCM stream_idle_timeout's default, in ms. */
const STREAM_IDLE_DEFAULT_MS = 300_000;

const retryOf = (r: RouteView): Json | undefined =>
  r.route.retry_policy !== undefined ? obj(r.route.retry_policy) : r.virtualHostRetry;

const perRoute = (id: string, title: string, run: (r: RouteView) => Finding | undefined): Check => ({
  id,
  title,
  run: (scope) => scope.routes.flatMap((r) => run(r) ?? []),
});

const routeFinding = (r: RouteView, f: Omit<Finding, "subject" | "fix">, patch: Json): Finding => ({
  ...f,
  subject: `route ${r.where}`,
  fix: { target: { kind: "route", where: r.where }, patch },
});

/** The HTTP connection managers that hold the routes in scope, once each. */
function managersInScope(scope: Scope): { listener: ListenerView; config: Json }[] {
  return scope.view.listeners.flatMap((l) =>
    l.managers
      .filter((m) => m.routes.some((r) => scope.routes.includes(r)))
      .map((m) => ({ listener: l, config: m.config })),
  );
}

const perManager = (
  id: string,
  title: string,
  run: (l: ListenerView, hcm: Json) => Finding | undefined,
): Check => ({
  id,
  title,
  run: (scope) => managersInScope(scope).flatMap((m) => run(m.listener, m.config) ?? []),
});

const managerFinding = (l: ListenerView, f: Omit<Finding, "subject" | "fix">, patch: Json): Finding => ({
  ...f,
  subject: `listener ${l.name}`,
  fix: { target: { kind: "manager", listener: l.name }, patch },
});

export const routeChecks: Check[] = [
  perRoute("no-retry", "no retry for unavailable, reset or connect-failure on a gRPC route", (r) => {
    const retryOn = String(retryOf(r)?.retry_on ?? "");
    if (
      RETRYABLE.some((c) =>
        retryOn
          .split(",")
          .map((s) => s.trim())
          .includes(c),
      )
    )
      return undefined;
    return routeFinding(
      r,
      {
        check: "no-retry",
        severity: "warning",
        evidence: { field: "retry_policy.retry_on", value: retryOn === "" ? "absent" : retryOn },
        why: "a call that reaches a server as it stops, or a connection refused, fails back to the client although another server could take it",
        docs: `${DOCS}/configuration/http/http_filters/router_filter#x-envoy-retry-grpc-on`,
      },
      {
        retry_policy: {
          retry_on: "unavailable,reset,connect-failure,refused-stream",
          num_retries: 2,
          per_try_timeout: "2s",
          retry_host_predicate: [
            {
              name: "envoy.retry_host_predicates.previous_hosts",
              typed_config: {
                "@type":
                  "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate",
              },
            },
          ],
          host_selection_retry_max_attempts: 3,
        },
      },
    );
  }),
  perRoute("retry-no-per-try-timeout", "retries with no per-try timeout", (r) => {
    const retry = retryOf(r);
    if (retry === undefined || retry.retry_on === undefined || retry.per_try_timeout !== undefined)
      return undefined;
    return routeFinding(
      r,
      {
        check: "retry-no-per-try-timeout",
        severity: "warning",
        evidence: { field: "retry_policy.per_try_timeout", value: "absent" },
        why: "a try on a frozen server waits for the whole route timeout or the client's deadline, so no retry is left to make",
        docs: `${DOCS}/api-v3/config/route/v3/route_components.proto#envoy-v3-api-field-config-route-v3-retrypolicy-per-try-timeout`,
      },
      { retry_policy: { per_try_timeout: "2s" } },
    );
  }),
  perCluster("retry-no-budget", "retries with no retry budget on the cluster", (c, scope) => {
    const retried = scope.routesTo(c.name).some((r) => retryOf(r)?.retry_on !== undefined);
    const thresholds = Array.isArray(obj(c.config.circuit_breakers).thresholds)
      ? (obj(c.config.circuit_breakers).thresholds as Json[])
      : [];
    if (
      c.kind === "AGGREGATE" ||
      !retried ||
      thresholds.some((t) => t.retry_budget !== undefined || t.max_retries !== undefined)
    )
      return undefined;
    return about(c, {
      check: "retry-no-budget",
      severity: "warning",
      evidence: { field: "circuit_breakers.thresholds[].retry_budget", value: "absent (max_retries 3)" },
      why: "only 3 retries may be in flight at once by default: when a server goes away under load, most retries overflow and those calls fail",
      docs: `${DOCS}/intro/arch_overview/upstream/circuit_breaking`,
      patch: {
        circuit_breakers: {
          thresholds: [
            {
              priority: "DEFAULT",
              retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: 10 },
            },
          ],
        },
      },
    });
  }),
  perRoute("route-timeout", "a route timeout that cuts long calls and streams", (r) => {
    const timeoutMs = r.route.timeout === undefined ? 15_000 : (durationMs(r.route.timeout) ?? 15_000);
    if (timeoutMs === 0) return undefined;
    return routeFinding(
      r,
      {
        check: "route-timeout",
        severity: "warning",
        evidence: {
          field: "route.timeout",
          value: r.route.timeout === undefined ? "15s (default)" : String(r.route.timeout),
        },
        why: "every call or stream still open after it ends with a 504 (UNAVAILABLE to the client), whatever deadline the client set",
        docs: `${DOCS}/faq/configuration/timeouts#route-timeouts`,
      },
      { timeout: "0s", max_stream_duration: { grpc_timeout_header_max: "0s" } },
    );
  }),
  perRoute("route-idle-timeout", "a route idle timeout that cuts quiet streams", (r) => {
    const idleMs = durationMs(r.route.idle_timeout);
    if (idleMs === undefined || idleMs === 0 || idleMs >= STREAM_IDLE_DEFAULT_MS) return undefined;
    return routeFinding(
      r,
      {
        check: "route-idle-timeout",
        severity: "warning",
        evidence: { field: "route.idle_timeout", value: String(r.route.idle_timeout) },
        why: "a stream that sends nothing for that long (a watch, a quiet server stream) is reset",
        docs: `${DOCS}/faq/configuration/timeouts#route-timeouts`,
      },
      { idle_timeout: "300s" },
    );
  }),
  perManager("stream-idle-timeout", "a stream idle timeout that cuts quiet streams", (l, hcm) => {
    const idleMs = durationMs(hcm.stream_idle_timeout);
    if (idleMs === undefined || idleMs === 0 || idleMs >= STREAM_IDLE_DEFAULT_MS) return undefined;
    return managerFinding(
      l,
      {
        check: "stream-idle-timeout",
        severity: "warning",
        evidence: { field: "stream_idle_timeout", value: String(hcm.stream_idle_timeout) },
        why: "every stream through this listener that is quiet for that long is reset",
        docs: `${DOCS}/faq/configuration/timeouts#stream-timeouts`,
      },
      { stream_idle_timeout: "300s" },
    );
  }),
  perManager("no-max-connection-duration", "no maximum downstream connection duration", (l, hcm) => {
    const ms = durationMs(obj(hcm.common_http_protocol_options).max_connection_duration);
    if (ms !== undefined && ms > 0) return undefined;
    return managerFinding(
      l,
      {
        check: "no-max-connection-duration",
        severity: "info",
        evidence: {
          field: "common_http_protocol_options.max_connection_duration",
          value: "absent (forever)",
        },
        why: "matters when several Envoys sit behind an L4 balancer: a client keeps its first Envoy forever, and a new or restarted Envoy gets no old client",
        docs: `${DOCS}/api-v3/config/core/v3/protocol.proto#envoy-v3-api-field-config-core-v3-httpprotocoloptions-max-connection-duration`,
      },
      { common_http_protocol_options: { max_connection_duration: "300s" } },
    );
  }),
  {
    id: "admin-exposed",
    title: "the admin API listening beyond loopback",
    run(scope) {
      const address = scope.view.adminAddress;
      const host = address.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
      const loopback =
        host === "" ||
        host === "localhost" ||
        host === "::1" ||
        (isIP(host) === 4 && host.startsWith("127."));
      if (loopback || isIP(host) === 0) return [];
      return [
        {
          check: "admin-exposed",
          severity: "error",
          subject: "admin",
          evidence: { field: "admin.address", value: address },
          why: "anyone who reaches it can stop Envoy (/quitquitquit), fail its health check, change log levels and read its whole configuration",
          docs: `${DOCS}/operations/admin`,
          fix: {
            target: { kind: "admin" },
            patch: { address: { socket_address: { address: "127.0.0.1" } } },
          },
        },
      ];
    },
  },
];
