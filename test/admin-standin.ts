import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The documents a captured Envoy answered with, served back as its admin API would. */
export interface CapturedAdmin {
  /** Envoy's version as /server_info prints it ("…/1.40.0/Clean/RELEASE/BoringSSL"). */
  version: string;
  configDump: unknown;
  /** /clusters?format=json; absent when it was not captured (then no cluster is listed). */
  clusters?: unknown;
}

export interface AdminStandIn {
  address: string;
  /** The paths asked for, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/**
 * A read-only stand-in of Envoy's admin API on loopback, serving a captured /config_dump: what
 * doctor reads of a sidecar or gateway that cannot run here. Anything else gets 404, and a
 * method other than GET 405, as from a real admin API asked for a page it lacks.
 */
export async function serveCapturedAdmin(c: CapturedAdmin): Promise<AdminStandIn> {
  const requests: string[] = [];
  const pages: Record<string, unknown> = {
    "/server_info": { version: c.version, state: "LIVE" },
    "/config_dump": c.configDump,
    "/clusters": c.clusters ?? { cluster_statuses: [] },
    "/stats": { stats: [] },
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").replace(/\?.*$/, "");
    requests.push(req.url ?? "/");
    if (req.method !== "GET") {
      res.writeHead(405).end();
      return;
    }
    const page = pages[path];
    if (page === undefined) {
      res.writeHead(404).end();
      return;
    }
    // Indented, as Envoy prints it.
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(page, null, 2));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
