import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";
import { waitFor } from "../../src/util/wait.js";
import { TYPE_URLS } from "../../src/xds/protos.js";
import { writeEndpointsFile } from "../../src/xds/sources/file-format.js";
import { type AdsTestClient, openAdsStream, type ReceivedResponse } from "../ads-client.js";
import { type CliRun, killSpawned, spawnCli } from "../helpers.js";

after(killSpawned);
let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grpc-lb-xds-cli-"));
});
after(() => rm(dir, { recursive: true, force: true }));

interface Assignment {
  cluster_name: string;
  endpoints: {
    lb_endpoints: {
      endpoint: { address: { socket_address: { address: string; port_value: number } } };
      health_status: string;
    }[];
  }[];
}

/** "IP:PORT HEALTH" of each endpoint of an ADS response carrying the assignment of 'server', sorted. */
const hostsOf = (r: ReceivedResponse): string[] => {
  const [cla] = r.resources as unknown as Assignment[];
  return (cla?.endpoints ?? [])
    .flatMap((l) =>
      l.lb_endpoints.map(
        (e) =>
          `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value} ${e.health_status}`,
      ),
    )
    .sort();
};

/**
 * Starts `grpc-lb xds-server ARGS`, asks it for the assignment of 'server' over ADS, lets
 * `then` read on, stops it with SIGTERM.
 */
async function assignmentOf(
  args: string[],
  then: (ads: AdsTestClient, run: CliRun) => Promise<void> = async () => {},
): Promise<{ hosts: string[]; ready: Record<string, unknown> }> {
  const run = spawnCli(["xds-server", "--port", "0", "--metrics-port", "0", ...args]);
  const ready = JSON.parse(await run.line((l) => l.includes('"ready"'))) as Record<string, unknown>;
  const ads = openAdsStream(String(ready.address));
  try {
    ads.send({
      node: { id: "cli-test" },
      type_url: TYPE_URLS.endpoint,
      resource_names: ["server"],
    });
    const hosts = hostsOf(await ads.next());
    await then(ads, run);
    return { hosts, ready };
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

  it("--source file serves the file, follows a rename over it, and keeps the last good list through a bad one", async () => {
    const file = join(dir, "endpoints.json");
    await writeEndpointsFile(file, [
      { address: "127.0.0.1", port: 50051, health: "HEALTHY" },
      { address: "127.0.0.2", port: 50051, health: "DRAINING" },
    ]);
    const { hosts, ready } = await assignmentOf(
      ["--source", "file", "--endpoints-file", file],
      async (ads, run) => {
        await writeFile(
          `${file}.bad`,
          '{"endpoints": [{"address": "127.0.0.3", "port": 50051, "health": "UP"}]}',
        );
        await rename(`${file}.bad`, file);
        // Bounded by 40 of the source's 250 ms polls.
        await waitFor(
          "the bad update to be logged",
          () => (/keeping the last good list/.test(run.stderr()) ? true : undefined),
          {
            timeoutMs: 10_000,
          },
        );
        assert.match(
          run.stderr(),
          /is not an endpoints file: endpoints\[0\]\.health must be HEALTHY or DRAINING, got "UP"; keeping the last good list \(2 endpoint\(s\)\)/,
        );
        assert.equal(ads.unread(), 0, "no push for a refused file");
        await writeEndpointsFile(file, [{ address: "127.0.0.3", port: 50052, health: "HEALTHY" }]);
        assert.deepEqual(hostsOf(await ads.next(10_000)), ["127.0.0.3:50052 HEALTHY"]);
        assert.match(run.stderr(), /file source: .*endpoints\.json changed: 1 endpoint\(s\)/);
      },
    );
    assert.deepEqual(hosts, ["127.0.0.1:50051 HEALTHY", "127.0.0.2:50051 DRAINING"]);
    assert.equal(ready.endpoints, 2);
    assert.match(String(ready.source), /the endpoints file .*endpoints\.json/);
  });

  for (const [args, message] of [
    [
      ["--source", "file", "--endpoints-file", "/nonexistent/endpoints.json"],
      /file source: \/nonexistent\/endpoints\.json cannot be read: no such file/,
    ],
    [
      ["--source", "file", "--endpoints-file", "BAD"],
      /is not an endpoints file: "endpoints" must be a list, got nothing/,
    ],
    [["--source", "file"], /--source file needs --endpoints-file PATH/],
    [["--source", "static", "--endpoints-file", "x.json"], /--endpoints-file goes with --source file/],
    [[], /--source k8s\|static\|file is required/],
    [["--source", "dns"], /--source must be one of k8s, static, file/],
    [["--source", "static", "--namespace", "x"], /--namespace goes with --source k8s/],
    [["--source", "static", "--endpoint", "server:50051"], /--endpoint must be IP:PORT/],
    [["--source", "k8s", "--endpoint", "127.0.0.1:1"], /--endpoint goes with --source static/],
    [
      ["--source", "k8s", "--namespace", "Not_A_Name", "--api-url", "http://127.0.0.1:1"],
      /is not a Kubernetes name/,
    ],
  ] as const) {
    it(`refuses ${args.join(" ") || "no --source"} with exit 2`, async () => {
      const bad = join(dir, "bad.json");
      await writeFile(bad, "{}");
      const run = spawnCli([
        "xds-server",
        "--port",
        "0",
        "--metrics-port",
        "0",
        ...args.map((a) => (a === "BAD" ? bad : a)),
      ]);
      const { code } = await run.exit;
      assert.equal(code, 2);
      assert.match(run.stderr(), message);
    });
  }
});
