import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";
import { waitFor } from "../../src/util/wait.js";
import { type K8sSourceEvent, startK8sSource } from "../../src/xds/k8s-source.js";
import type { EndpointSlice } from "../../src/xds/k8s-source-slices.js";

const sample = (name: string): EndpointSlice[] =>
  (
    JSON.parse(readFileSync(join(packageRoot, "test", "k8s-samples", `${name}.json`), "utf8")) as {
      items: EndpointSlice[];
    }
  ).items;
const steady = sample("endpointslices-steady");
const rolling = sample("endpointslices-rollout");

/**
 * The two calls of the API server the source makes, on loopback: a list the test can hold
 * back or fail, and watches whose events the test writes.
 */
function apiServer() {
  const api = {
    lists: [] as string[],
    watches: [] as { url: URL; res: ServerResponse }[],
    listFailures: 0,
    listGate: Promise.resolve(),
    listVersion: "100",
    items: steady,
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://api");
    assert.equal(url.pathname, "/apis/discovery.k8s.io/v1/namespaces/grpc-lb/endpointslices");
    assert.equal(url.searchParams.get("labelSelector"), "kubernetes.io/service-name=server");
    if (url.searchParams.get("watch") === "true") {
      res.writeHead(200, { "content-type": "application/json" });
      res.flushHeaders();
      api.watches.push({ url, res });
      return;
    }
    api.lists.push(url.search);
    await api.listGate;
    if (api.listFailures > 0) {
      api.listFailures--;
      res.writeHead(500).end(JSON.stringify({ kind: "Status", code: 500, message: "etcd is away" }));
      return;
    }
    res
      .writeHead(200)
      .end(JSON.stringify({ metadata: { resourceVersion: api.listVersion }, items: api.items }));
  });
  return { server, api };
}

const event = (type: string, object: object): string => `${JSON.stringify({ type, object })}\n`;

describe("the Kubernetes source: list, watch, relist", () => {
  const { server, api } = apiServer();
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("unsynced until the first list; follows the watch; relists on 410; watches again after the stream ends", async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let release = (): void => {};
    api.listGate = new Promise((r) => {
      release = r;
    });
    api.listFailures = 1;
    const events: K8sSourceEvent[] = [];
    const k8s = await startK8sSource({
      namespace: "grpc-lb",
      service: "server",
      access: { kind: "url", url },
      retryBaseMs: 10,
      onEvent: (e) => events.push(e),
    });
    const view = () =>
      k8s.source
        .current()
        ?.map((e) => `${e.address} ${e.health}`)
        .join(", ");
    const until = (what: string, check: () => boolean) =>
      waitFor(what, () => (check() ? true : undefined), { timeoutMs: 5000, intervalMs: 5 });
    try {
      await until("the first list call", () => api.lists.length === 1);
      assert.equal(k8s.source.current(), undefined, "nothing before the full list: the sync gate holds");
      release();
      await k8s.synced();
      assert.equal(events[0]?.kind, "failed", "a 500 on the list is retried");
      assert.match((events[0] as { error: string }).error, /answered 500: etcd is away/);
      assert.equal(view(), "10.244.0.3 HEALTHY, 10.244.0.4 HEALTHY, 10.244.0.5 HEALTHY");

      await until("a watch", () => api.watches.length === 1);
      const first = api.watches[0];
      assert.equal(first?.url.searchParams.get("resourceVersion"), "100", "watches from the list's version");
      const [roll] = rolling;
      assert.ok(roll);
      first?.res.write(
        event("MODIFIED", { ...roll, metadata: { ...roll.metadata, resourceVersion: "120" } }),
      );
      await until("the DRAINING endpoint", () => view()?.includes("10.244.0.3 DRAINING") ?? false);
      assert.equal(
        view(),
        "10.244.0.11 HEALTHY, 10.244.0.3 DRAINING, 10.244.0.4 HEALTHY, 10.244.0.5 HEALTHY",
      );

      // The server ends the watch (its timeoutSeconds): watched again from the last version, no list.
      first?.res.write(event("BOOKMARK", { metadata: { resourceVersion: "130" } }));
      first?.res.end();
      await until("a second watch", () => api.watches.length === 2);
      assert.equal(api.watches[1]?.url.searchParams.get("resourceVersion"), "130");
      assert.equal(api.lists.length, 2, "no list after a watch that simply ended");

      // 410 Gone: the version is too old; the source lists again and keeps serving meanwhile.
      api.items = steady;
      api.listVersion = "200";
      api.watches[1]?.res.write(
        event("ERROR", { kind: "Status", code: 410, message: "too old resource version" }),
      );
      await until("a relist", () => api.lists.length === 3);
      await until("a watch from the new list", () => api.watches.length === 3);
      assert.equal(api.watches[2]?.url.searchParams.get("resourceVersion"), "200");
      assert.equal(view(), "10.244.0.3 HEALTHY, 10.244.0.4 HEALTHY, 10.244.0.5 HEALTHY");
      assert.deepEqual(
        events.filter((e) => e.kind === "expired" || e.kind === "listed").map((e) => e.kind),
        ["listed", "expired", "listed"],
      );

      api.watches[2]?.res.write(event("DELETED", steady[0] as object));
      await until("every endpoint gone", () => view() === "");
    } finally {
      const t0 = Date.now();
      await k8s.stop();
      assert.ok(Date.now() - t0 < 1000, "stop ends the watch at once");
    }
  });

  it("stopped before its first list, it was never synced", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api.listGate = new Promise(() => {});
    const k8s = await startK8sSource({
      namespace: "grpc-lb",
      service: "server",
      access: { kind: "url", url },
    });
    const synced = k8s.synced();
    await k8s.stop();
    await assert.rejects(synced, /stopped before the first full list of EndpointSlices/);
    assert.equal(k8s.source.current(), undefined);
  });
});
