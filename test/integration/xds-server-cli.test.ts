import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";
import { TYPE_URLS } from "../../src/xds/protos.js";
import { openAdsStream } from "../ads-client.js";
import { killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);

interface Assignment {
  cluster_name: string;
  endpoints: {
    lb_endpoints: {
      endpoint: { address: { socket_address: { address: string; port_value: number } } };
      health_status: string;
    }[];
  }[];
}

/** Starts `grpc-lb xds-server ARGS`, asks it for the assignment of 'server' over ADS, stops it with SIGTERM. */
async function assignmentOf(args: string[]): Promise<{ hosts: string[]; ready: Record<string, unknown> }> {
  const run = spawnCli(["xds-server", "--port", "0", "--metrics-port", "0", ...args]);
  const ready = JSON.parse(await run.line((l) => l.includes('"ready"'))) as Record<string, unknown>;
  const ads = openAdsStream(String(ready.address));
  try {
    ads.send({
      node: { id: "cli-test" },
      type_url: TYPE_URLS.endpoint,
      resource_names: ["server"],
    });
    const [cla] = (await ads.next()).resources as unknown as Assignment[];
    const hosts = (cla?.endpoints ?? []).flatMap((l) =>
      l.lb_endpoints.map(
        (e) =>
          `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value} ${e.health_status}`,
      ),
    );
    return { hosts: hosts.sort(), ready };
  } finally {
    ads.close();
    run.child.kill("SIGTERM");
    const { code } = await run.exit;
    assert.equal(code, 0, `exit on SIGTERM; stderr:\n${run.stderr()}`);
  }
}

describe("grpc-lb xds-server", () => {
  it("--source static serves its --endpoint list, every one HEALTHY", async () => {
    const { hosts, ready } = await assignmentOf([
      "--source",
      "static",
      "--endpoint",
      "127.0.0.1:50051",
      "--endpoint",
      "127.0.0.2:50052",
    ]);
    assert.deepEqual(hosts, ["127.0.0.1:50051 HEALTHY", "127.0.0.2:50052 HEALTHY"]);
    assert.equal(ready.endpoints, 2);
    assert.match(String(ready.metricsAddress), /^127\.0\.0\.1:\d+$/);
  });

  it("--source k8s serves the EndpointSlices the API server lists (here through --api-url)", async () => {
    const list = readFileSync(
      join(packageRoot, "test", "k8s-samples", "endpointslices-rollout.json"),
      "utf8",
    );
    const api = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://api");
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200).flushHeaders(); // a watch with no event yet
        return;
      }
      res.writeHead(200).end(list);
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    try {
      const { hosts, ready } = await assignmentOf([
        "--source",
        "k8s",
        "--namespace",
        "grpc-lb",
        "--api-url",
        `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      ]);
      assert.deepEqual(hosts, [
        "10.244.0.11:50051 HEALTHY",
        "10.244.0.3:50051 DRAINING",
        "10.244.0.4:50051 HEALTHY",
        "10.244.0.5:50051 HEALTHY",
      ]);
      assert.match(String(ready.source), /EndpointSlices of grpc-lb\/server/);
    } finally {
      api.closeAllConnections();
      api.close();
    }
  });

  for (const [args, message] of [
    [[], /--source k8s\|static is required/],
    [["--source", "dns"], /--source must be one of k8s, static/],
    [["--source", "static", "--namespace", "x"], /go with --source k8s/],
    [["--source", "static", "--endpoint", "server:50051"], /--endpoint must be IP:PORT/],
    [["--source", "k8s", "--endpoint", "127.0.0.1:1"], /--endpoint goes with --source static/],
    [
      ["--source", "k8s", "--namespace", "Not_A_Name", "--api-url", "http://127.0.0.1:1"],
      /is not a Kubernetes name/,
    ],
  ] as const) {
    it(`refuses ${args.join(" ") || "no --source"} with exit 2`, async () => {
      const run = spawnCli(["xds-server", ...args]);
      const { code } = await run.exit;
      assert.equal(code, 2);
      assert.match(run.stderr(), message);
    });
  }
});
