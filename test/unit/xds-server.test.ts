import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { withTimeout } from "../../src/util/wait.js";
import type { XdsEvent } from "../../src/xds/events.js";
import { formatXdsEvent } from "../../src/xds/events.js";
import { TYPE_URLS } from "../../src/xds/protos.js";
import { startXdsServer, type XdsServerHandle } from "../../src/xds/server.js";
import { EndpointList } from "../../src/xds/sources/list.js";
import type { DiscoveredEndpoint } from "../../src/xds/types.js";
import { type AdsTestClient, openAdsStream } from "../ads-client.js";

const EDS = TYPE_URLS.endpoint;
const node = (id: string) => ({ id, locality: {} });
const ep = (last: number, health: DiscoveredEndpoint["health"] = "HEALTHY"): DiscoveredEndpoint => ({
  address: `127.77.0.${last}`,
  port: 50051,
  health,
});

/** A server on a fresh source, its events kept so a test can wait for one. */
async function serve(): Promise<{
  server: XdsServerHandle;
  source: EndpointList;
  seen(kind: XdsEvent["kind"], node: string): Promise<XdsEvent>;
  lines: string[];
}> {
  const source = new EndpointList("a test's list");
  const events: XdsEvent[] = [];
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const server = await startXdsServer(source, {
    onEvent: (e) => {
      events.push(e);
      const line = formatXdsEvent(e);
      if (line !== undefined) lines.push(line);
      for (const w of [...waiters]) w();
    },
  });
  const seen = (kind: XdsEvent["kind"], id: string) =>
    withTimeout(
      `xds event ${kind} of ${id}`,
      new Promise<XdsEvent>((resolve) => {
        const check = () => {
          const e = events.find((x) => x.kind === kind && "node" in x && x.node === id);
          if (e === undefined) return;
          waiters.delete(check);
          resolve(e);
        };
        waiters.add(check);
        check();
      }),
      5000,
    );
  return { server, source, seen, lines };
}

describe("xds server: the state-of-the-world protocol on a real ADS stream", () => {
  let s: Awaited<ReturnType<typeof serve>>;
  const clients: AdsTestClient[] = [];
  const open = () => {
    const c = openAdsStream(s.server.address);
    clients.push(c);
    return c;
  };
  before(async () => {
    s = await serve();
  });
  after(async () => {
    for (const c of clients) c.close();
    await s.server.stop();
  });

  it("answers nothing before the source has its full list, then the list", async () => {
    const c = open();
    c.send({ node: node("early"), type_url: EDS, resource_names: ["server"] });
    await s.seen("waiting", "early");
    assert.equal(c.unread(), 0);
    s.source.set([ep(1), ep(2)]);
    const r = await c.next();
    // Nonce 1: the first response this stream ever got is the synced one.
    assert.equal(r.nonce, "1");
    const [cla] = r.resources as { cluster_name: string; endpoints: { lb_endpoints: unknown[] }[] }[];
    assert.equal(cla?.cluster_name, "server");
    assert.equal(cla?.endpoints[0]?.lb_endpoints.length, 2);
    assert.ok(
      s.lines.some((l) => /^xds: push EDS version \S+ to node 'early'/.test(l)),
      s.lines.join("\n"),
    );
  });

  it("an ACK gets no answer; the next change does", async () => {
    const c = open();
    c.send({ node: node("acker"), type_url: EDS, resource_names: ["server"] });
    const first = await c.next();
    c.send({
      type_url: EDS,
      resource_names: ["server"],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    await s.seen("ack", "acker");
    s.source.set([ep(1), ep(2), ep(3, "DRAINING")]);
    const second = await c.next();
    assert.equal(second.nonce, "2", "nothing was sent between the ACK and the change");
    assert.notEqual(second.version_info, first.version_info);
    const [cla] = second.resources as { endpoints: { lb_endpoints: { health_status: string }[] }[] }[];
    assert.deepEqual(
      cla?.endpoints[0]?.lb_endpoints.map((e) => e.health_status),
      ["HEALTHY", "HEALTHY", "DRAINING"],
    );
  });

  it("an unsubscription (no names after names) gets no answer, nor do later changes", async () => {
    const c = open();
    c.send({ node: node("leaver"), type_url: EDS, resource_names: ["server"] });
    const first = await c.next();
    // grpc-js-xds, closing its channel: every name dropped, then its stream half-closed.
    c.send({
      type_url: EDS,
      resource_names: [],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    await s.seen("ack", "leaver");
    s.source.set([ep(7), ep(8)]);
    c.send({ type_url: EDS, resource_names: ["server"], response_nonce: first.nonce });
    const again = await c.next();
    assert.equal(again.nonce, "2", "nothing was sent to the stream while it asked for nothing");
    const [cla] = again.resources as { endpoints: { lb_endpoints: unknown[] }[] }[];
    assert.equal(cla?.endpoints[0]?.lb_endpoints.length, 2);
  });

  it("a NACKed version is held, not sent again, until the source changes", async () => {
    const c = open();
    c.send({ node: node("nacker"), type_url: EDS, resource_names: ["server"] });
    const first = await c.next();
    c.send({
      type_url: EDS,
      resource_names: ["server"],
      version_info: "",
      response_nonce: first.nonce,
      error_detail: { code: 3, message: "bad endpoint" },
    });
    const nack = await s.seen("nack", "nacker");
    assert.equal(nack.kind === "nack" && nack.rejected, first.version_info);
    const text = await s.server.metrics.registry.metrics();
    assert.match(text, /xds_nacks_total\{node_id="nacker",type="EDS"\} 1/);
    assert.match(
      text,
      /xds_nacked_version_info\{node_id="nacker",type="EDS",version="[^"]+",error="bad endpoint"\} 1/,
    );
    assert.ok(s.lines.some((l) => l.includes("NACK EDS") && l.includes("bad endpoint")));
    s.source.set([ep(4)]);
    const next = await c.next();
    assert.equal(next.nonce, "2", "the rejected version was not sent back");
    assert.notEqual(next.version_info, first.version_info);
  });

  it("answers an empty assignment for a name it does not know", async () => {
    const c = open();
    c.send({ node: node("stranger"), type_url: EDS, resource_names: ["nobody"] });
    const r = await c.next();
    assert.deepEqual(
      r.resources.map((x) => ({ name: x.cluster_name, endpoints: x.endpoints ?? [] })),
      [{ name: "nobody", endpoints: [] }],
    );
  });

  it("ignores a request with a stale nonce, and answers new names", async () => {
    const c = open();
    c.send({ node: node("racer"), type_url: EDS, resource_names: ["server"] });
    const first = await c.next();
    s.source.set([ep(5)]);
    const second = await c.next();
    c.send({
      type_url: EDS,
      resource_names: ["server", "other"],
      version_info: first.version_info,
      response_nonce: first.nonce,
    });
    await s.seen("stale", "racer");
    c.send({
      type_url: EDS,
      resource_names: ["server", "other"],
      version_info: second.version_info,
      response_nonce: second.nonce,
    });
    const third = await c.next();
    assert.equal(third.nonce, "3", "the stale request got no answer");
    assert.deepEqual(third.resources.map((x) => x.cluster_name).sort(), ["other", "server"]);
  });

  it("serves Listener, RouteConfiguration and Cluster by name, and Cluster to a wildcard", async () => {
    const c = open();
    c.send({ node: node("grpc"), type_url: TYPE_URLS.listener, resource_names: ["server"] });
    const lds = await c.next();
    assert.equal(lds.resources[0]?.name, "server");
    c.send({ type_url: TYPE_URLS.route, resource_names: ["server"] });
    const rds = await c.next();
    assert.equal(rds.type_url, TYPE_URLS.route);
    c.send({ type_url: TYPE_URLS.cluster, resource_names: [] });
    const cds = await c.next();
    assert.deepEqual(
      cds.resources.map((x) => [x.name, x.type]),
      [["server", "EDS"]],
    );
  });
});

describe("xds server: options", () => {
  it("refuses a port out of range and a service that is no resource name", async () => {
    const source = new EndpointList("none");
    await assert.rejects(startXdsServer(source, { port: 70000 }), /port must be an integer from 0 to 65535/);
    await assert.rejects(startXdsServer(source, { service: "a b" }), /is not a resource name/);
  });
});
