import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Client, credentials, type ServiceError, status } from "@grpc/grpc-js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import type { LabEvent } from "../../src/lab/events.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import type { FailCode } from "../../src/server/echo-service.js";
import { echoClient } from "../grpc-clients.js";
import { killSpawned, waitAllGone } from "../helpers.js";

after(killSpawned);

/** Calls in each burst: 10 in a row per host, twice the streak Envoy's 5xx detector would eject on. */
const BURST = 30;

/** A call to a method no server has, as a client built against another version of the API makes. */
function callUnknownMethod(client: Client): Promise<number> {
  return new Promise<number>((resolve) =>
    client.makeUnaryRequest(
      "/lbdemo.v1.Echo/NoSuchMethod",
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      { deadline: Date.now() + 5000 },
      (err) => resolve(err ? ((err as ServiceError).code ?? status.UNKNOWN) : status.OK),
    ),
  );
}

async function sequential<T>(n: number, call: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await call());
  return out;
}

/** Who answers calls the servers serve normally (EchoStream, which faults leave alone), by server_id. */
async function streamDistribution(lab: LabCluster, calls: number): Promise<Record<string, number>> {
  const client = echoClient(lab.listenAddress);
  const counts: Record<string, number> = {};
  try {
    for (let i = 0; i < calls; i++) {
      const id = await new Promise<string>((resolve, reject) => {
        let seen = "";
        const call = client.EchoStream({ message: "after", count: 1, interval_ms: 0 });
        call.on("data", (r: { server_id: string }) => (seen = r.server_id));
        call.on("error", reject);
        call.on("end", () => resolve(seen));
      });
      counts[id] = (counts[id] ?? 0) + 1;
    }
  } finally {
    client.close();
  }
  return counts;
}

describe("a client's own errors never eject a host (real Envoy, real servers)", () => {
  for (const failCode of ["INTERNAL", "INVALID_ARGUMENT", "UNKNOWN"] as const satisfies FailCode[]) {
    it(`bursts of UNIMPLEMENTED and ${failCode} leave all 3 hosts in rotation, evenly used`, async () => {
      const pids: number[] = [];
      const onEvent = (e: LabEvent): void => {
        if (e.kind === "server-started" || e.kind === "envoy-started") pids.push(e.pid);
      };
      // Every Echo call is answered failCode: the server saying the client got something wrong.
      const lab = await startLabCluster(
        resolveLabOptions({ servers: 3, serverFaults: { failRate: 1, failCode } }),
        onEvent,
      );
      try {
        const before = await lab.requestsPerHost();
        // One channel per burst, as one client: one connection, so one Envoy worker's round robin.
        const raw = new Client(lab.listenAddress, credentials.createInsecure());
        const unknown = await sequential(BURST, () => callUnknownMethod(raw));
        raw.close();
        assert.deepEqual(new Set(unknown), new Set([status.UNIMPLEMENTED]));
        const client = echoClient(lab.listenAddress);
        const failed = await sequential(
          BURST,
          () =>
            new Promise<number>((resolve) =>
              client.Echo({ message: "bad" }, { deadline: Date.now() + 5000 }, (err) =>
                resolve(err ? ((err as ServiceError).code ?? status.UNKNOWN) : status.OK),
              ),
            ),
        );
        client.close();
        assert.deepEqual(new Set(failed), new Set([status[failCode]]));

        // Envoy saw every one of them, spread evenly, and counted the 5xx streaks without acting on them.
        const after = await lab.requestsPerHost();
        const perHost = Object.keys(after).map((a) => (after[a] ?? 0) - (before[a] ?? 0));
        assert.deepEqual(perHost, [20, 20, 20], "round robin over all 3 hosts through both bursts");
        const detected = await lab.envoy.admin.stat(
          "cluster.server.outlier_detection.ejections_detected_consecutive_5xx",
        );
        if (failCode !== "INVALID_ARGUMENT")
          assert.ok((detected ?? 0) > 0, "the 5xx streaks reached the detector");

        const distribution = await streamDistribution(lab, 30);
        assert.deepEqual(Object.values(distribution), [10, 10, 10], "every host still gets its share");
        const hosts = await lab.hosts();
        assert.equal(hosts.filter((h) => h.healthy).length, 3);
        assert.equal(
          await lab.envoy.admin.stat("cluster.server.outlier_detection.ejections_enforced_total"),
          0,
        );
      } finally {
        await lab.stop();
      }
      await waitAllGone(pids);
    });
  }
});
