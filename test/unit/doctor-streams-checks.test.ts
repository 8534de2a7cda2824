import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { withSecondReading } from "../../src/doctor/active-readings.js";
import { pinnedAt } from "../../src/doctor/checks/streams-pinned.js";
import { runChecks } from "../../src/doctor/checks.js";
import { buildView, type EnvoyView, type Json } from "../../src/doctor/envoy-view.js";
import { scopeOf } from "../../src/doctor/scope.js";
import type { EnvoyAdmin } from "../../src/envoy/admin.js";
import { CORPUS_DIR } from "../corpus.js";

/** This project's own Envoy (lab up --discovery xds) as captured in the corpus: 3 hosts in cluster 'server'. */
const LAB = join(CORPUS_DIR, "grpc-lb-lab-xds-config-dump");
const read = (file: string): Json => JSON.parse(readFileSync(join(LAB, file), "utf8")) as Json;
const configsOf = (dump: Json): Json[] => dump.configs as Json[];

/** The dump's only HTTP connection manager and its gRPC route action, to change. */
function managerAndRoute(dump: Json): { hcm: Json; route: Json } {
  const text = JSON.stringify(dump);
  assert.ok(text.includes("grpc_timeout_header_max"));
  const listeners = configsOf(dump).find((c) => String(c["@type"]).endsWith(".ListenersConfigDump")) as Json;
  const any = [...(listeners.static_listeners as Json[]), ...((listeners.dynamic_listeners as Json[]) ?? [])];
  const l = ((any[0] as Json).listener ?? (any[0] as Json).active_state) as Json;
  const listener = (l.listener ?? l) as Json;
  const chain = (listener.filter_chains as Json[])[0] as Json;
  const hcm = ((chain.filters as Json[])[0] as Json).typed_config as Json;
  const vh = ((hcm.route_config as Json).virtual_hosts as Json[])[0] as Json;
  return { hcm, route: ((vh.routes as Json[])[0] as Json).route as Json };
}

/** Sets a field of the route's max_stream_duration. */
const routeMsd =
  (field: string, value: string) =>
  (m: { route: Json }): void => {
    (m.route.max_stream_duration as Json)[field] = value;
  };

/** The lab's view with its routes changed by `change` and cluster server's hosts' rq_active set to `active`. */
function viewOf(o: { change?: (m: { hcm: Json; route: Json }) => void; active?: number[]; flags?: Json[] }) {
  const dump = read("config_dump.json");
  o.change?.(managerAndRoute(dump));
  const clusters = read("clusters.json");
  for (const c of clusters.cluster_statuses as Json[])
    if (c.name === "server")
      (c.host_statuses as Json[]).forEach((h, i) => {
        h.stats = [{ type: "GAUGE", name: "rq_active", value: String(o.active?.[i] ?? 0) }];
        h.health_status = { ...(h.health_status as Json), ...(o.flags?.[i] ?? {}) };
      });
  return buildView("1.40.0", dump, clusters, { stats: [] });
}
const findingsOn = (view: EnvoyView) => runChecks(scopeOf(view) ?? assert.fail("no scope"));
const only = (view: EnvoyView, id: string) => findingsOn(view).filter((f) => f.check === id);
const counts = (xs: number[]) => xs.map((active, i) => ({ address: `10.0.0.${i + 1}:50051`, active }));

describe("streams-pinned: requests in flight spread as round robin never spreads them", () => {
  it("pinnedAt: 3 → 6 with streams left where they were; names the hosts that carry none", () => {
    const p = pinnedAt(counts([4, 4, 4, 0, 0, 0]));
    assert.deepEqual(p?.starved, ["10.0.0.4:50051", "10.0.0.5:50051", "10.0.0.6:50051"]);
    assert.equal(p?.fairShare, 2);
    assert.deepEqual(pinnedAt(counts([10, 10, 10, 0, 0, 0]))?.crowded.length, 3);
    assert.ok(pinnedAt(counts([8, 8, 8, 2, 2, 2])), "a spread of a fair share or more");
  });

  it("pinnedAt: what round robin gives, or too little in flight, is no finding", () => {
    assert.equal(pinnedAt(counts([2, 2, 2])), undefined);
    assert.equal(pinnedAt(counts([6, 5, 5, 5, 5, 4])), undefined, "the server lifetime's split");
    assert.equal(pinnedAt(counts([6, 6, 6, 4, 4, 4])), undefined);
    assert.equal(pinnedAt(counts([3, 2, 1])), undefined, "unary calls in flight at a moment");
    assert.equal(pinnedAt(counts([5, 0, 0])), undefined, "fewer than 2 per host in flight");
    assert.equal(pinnedAt(counts([9])), undefined, "one host has nothing to balance");
  });

  it("fires on the lab's view at one reading and says it is one", () => {
    const [f, ...more] = only(viewOf({ active: [6, 6, 0] }), "streams-pinned");
    assert.equal(more.length, 0);
    assert.equal(f?.severity, "warning");
    assert.equal(f?.subject, "cluster server");
    assert.equal(f?.evidence.field, "/clusters rq_active at one reading");
    assert.match(
      f?.evidence.value ?? "",
      /^12 in flight on 3 healthy hosts \(fair share 4\.0\): .* 6, .* 6, .* 0$/,
    );
    assert.match(
      f?.why ?? "",
      /127\.77\.0\.3:\d+ carries few or none: a stream stays on the host it started on/,
    );
    assert.match(f?.why ?? "", /one reading: a burst of short calls can look so/);
    assert.deepEqual(only(viewOf({ active: [4, 4, 4] }), "streams-pinned"), []);
  });

  it("an unhealthy host carrying none is not pinning: it takes nothing new either", () => {
    const view = viewOf({ active: [6, 6, 0], flags: [{}, {}, { failed_active_health_check: true }] });
    assert.deepEqual(only(view, "streams-pinned"), []);
  });

  it("a hash policy's split is hash-without-key's, not this check's", () => {
    const view = viewOf({ active: [6, 6, 0] });
    const server = view.clusters.get("server");
    assert.ok(server);
    server.config = { ...server.config, lb_policy: "RING_HASH" };
    assert.deepEqual(only(view, "streams-pinned"), []);
  });

  it("two readings: fires only when both show it, naming hosts starved at both", () => {
    const twice = (second: number[]): EnvoyView => {
      const view = viewOf({ active: [6, 6, 0] });
      const server = view.clusters.get("server");
      assert.ok(server);
      server.hosts = server.hosts.map((h, i) => ({ ...h, rqActive: [...h.rqActive, second[i] ?? 0] }));
      return { ...view, activeSpanMs: 1003 };
    };
    const kept = only(twice([7, 5, 0]), "streams-pinned")[0];
    assert.equal(kept?.evidence.field, "/clusters rq_active at 2 readings 1003 ms apart");
    assert.doesNotMatch(kept?.why ?? "", /one reading/);
    assert.deepEqual(only(twice([4, 4, 4]), "streams-pinned"), [], "gone at the second reading: a burst");
  });

  it("withSecondReading: no second reading, and no wait, when nothing looks pinned", async () => {
    const view = viewOf({ active: [1, 1, 1] });
    const admin = { send: () => assert.fail("read /clusters again") } as unknown as EnvoyAdmin;
    assert.equal(await withSecondReading(view, admin, { windowMs: 60_000 }), view);
  });
});

describe("max-stream-duration: Envoy resets streams at an age", () => {
  it("a route's finite max_stream_duration: info, with the route's 0s as the patch", () => {
    const [f, ...more] = only(
      viewOf({ change: routeMsd("max_stream_duration", "30s") }),
      "max-stream-duration",
    );
    assert.equal(more.length, 0);
    assert.equal(f?.severity, "info");
    assert.match(f?.subject ?? "", /^route /);
    assert.equal(f?.evidence.value, "30s");
    assert.match(f?.why ?? "", /INTERNAL/);
    assert.match(f?.why ?? "", /maximum lifetime set by the server/);
    assert.deepEqual(f?.fix?.patch, { max_stream_duration: { max_stream_duration: "0s" } });
    assert.match(f?.docs ?? "", /routeaction-maxstreamduration-max-stream-duration$/);
  });

  it("grpc_timeout_header_max alone, as this project sets it, is the client's deadline: no finding", () => {
    assert.deepEqual(only(viewOf({}), "max-stream-duration"), []);
    assert.deepEqual(
      only(
        viewOf({
          change: routeMsd("grpc_timeout_header_max", "30s"),
        }),
        "max-stream-duration",
      ),
      [],
    );
  });

  it("the connection manager's: on the routes that set none; a route's 0s lifts it", () => {
    const hcm60 = (m: { hcm: Json }) => {
      m.hcm.common_http_protocol_options = {
        ...(m.hcm.common_http_protocol_options as Json),
        max_stream_duration: "60s",
      };
    };
    const [f] = only(viewOf({ change: hcm60 }), "max-stream-duration");
    assert.match(f?.subject ?? "", /^listener /);
    assert.equal(f?.evidence.value, "60s (on 1 route that set none)");
    assert.equal(f?.fix, undefined);
    const lifted = viewOf({
      change: (m) => {
        hcm60(m);
        (m.route.max_stream_duration as Json).max_stream_duration = "0s";
      },
    });
    assert.deepEqual(only(lifted, "max-stream-duration"), []);
  });
});
