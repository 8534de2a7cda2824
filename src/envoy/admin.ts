import { request } from "node:http";
import { EnvoyError, messageOf } from "../errors.js";
import { formatHostPort } from "../util/address.js";

/** One upstream host as Envoy's /clusters reports it. */
export interface UpstreamHost {
  address: string;
  port: number;
  /** True when Envoy would route to it (no failed health flag set). */
  healthy: boolean;
  /** Requests Envoy sent to it so far (rq_total). */
  requestsTotal: number;
}

interface ClustersJson {
  cluster_statuses?: {
    name: string;
    host_statuses?: {
      address?: { socket_address?: { address: string; port_value: number } };
      stats?: { name: string; value?: string }[];
      health_status?: Record<string, unknown> & { eds_health_status?: string };
    }[];
  }[];
}

interface ListenersJson {
  listener_statuses?: {
    name: string;
    local_address?: { socket_address?: { address: string; port_value: number } };
  }[];
}

/** A client of Envoy's admin API (bound to loopback). */
export class EnvoyAdmin {
  constructor(readonly address: string) {}

  /**
   * One request on a connection of its own, its body as text. Never a kept-alive one: an
   * Envoy that hot-restarts hands the admin port to its new epoch, while a connection kept
   * from before would go on asking the old one until it exits.
   */
  send(path: string, method: "GET" | "POST" = "GET"): Promise<string> {
    const url = `http://${this.address}${path}`;
    return new Promise<string>((resolve, reject) => {
      const req = request(url, { method, agent: false, timeout: 3000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("error", reject);
        res.on("end", () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      });
      req.on("timeout", () => req.destroy(new Error("no answer within 3000 ms")));
      req.on("error", reject);
      req.end();
    }).catch((e: unknown) => {
      throw new EnvoyError(`admin ${this.address}${path}: ${messageOf(e)}`, { cause: e });
    });
  }

  /** True when the server state is LIVE (initialization done). */
  async live(): Promise<boolean> {
    // /ready answers 503 until Envoy is LIVE.
    const body = await this.send("/ready").catch(() => undefined);
    return body?.trim() === "LIVE";
  }

  /**
   * POST /healthcheck/fail: /ready answers 503 (DRAINING) from now on, so whatever sends
   * this Envoy new connections by its readiness stops, and every HTTP/2 connection it
   * serves gets a GOAWAY at its next response, whatever the drain strategy.
   */
  async failHealthcheck(): Promise<void> {
    await this.send("/healthcheck/fail", "POST");
  }

  async clusterHosts(cluster: string): Promise<UpstreamHost[]> {
    const body = JSON.parse(await this.send("/clusters?format=json")) as ClustersJson;
    const status = body.cluster_statuses?.find((c) => c.name === cluster);
    return (status?.host_statuses ?? []).map((h) => {
      const flags = Object.entries(h.health_status ?? {}).filter(
        ([k, v]) => k !== "eds_health_status" && v === true,
      );
      const eds = h.health_status?.eds_health_status;
      return {
        address: h.address?.socket_address?.address ?? "",
        port: h.address?.socket_address?.port_value ?? 0,
        healthy: flags.length === 0 && (eds === undefined || eds === "HEALTHY"),
        requestsTotal: Number(h.stats?.find((s) => s.name === "rq_total")?.value ?? 0),
      };
    });
  }

  /**
   * Every host's request counters, per cluster: cluster → host:port → counter → value
   * (rq_total, rq_success, rq_error, rq_active, cx_total, …), from /clusters. Counting
   * which upstream answered calls of any service is a difference of two of these.
   */
  async hostCounters(): Promise<Map<string, Map<string, Record<string, number>>>> {
    const body = JSON.parse(await this.send("/clusters?format=json")) as ClustersJson;
    const out = new Map<string, Map<string, Record<string, number>>>();
    for (const c of body.cluster_statuses ?? []) {
      const hosts = new Map<string, Record<string, number>>();
      for (const h of c.host_statuses ?? []) {
        const a = h.address?.socket_address;
        if (a === undefined) continue;
        hosts.set(
          formatHostPort(a.address, a.port_value),
          Object.fromEntries((h.stats ?? []).map((s) => [s.name, Number(s.value ?? 0)])),
        );
      }
      out.set(c.name, hosts);
    }
    return out;
  }

  /**
   * A static cluster's configuration as Envoy runs it (/config_dump), as JSON: fields left at
   * their default are absent (no lb_policy means ROUND_ROBIN). Undefined when there is none.
   */
  async staticCluster(name: string): Promise<Record<string, unknown> | undefined> {
    const body = JSON.parse(await this.send("/config_dump?resource=static_clusters")) as {
      configs?: { cluster?: { name?: string } & Record<string, unknown> }[];
    };
    return body.configs?.find((c) => c.cluster?.name === name)?.cluster;
  }

  /** The bound port of a listener (the real one when it was configured with port 0). */
  async listenerPort(name: string): Promise<number | undefined> {
    const body = JSON.parse(await this.send("/listeners?format=json")) as ListenersJson;
    return body.listener_statuses?.find((l) => l.name === name)?.local_address?.socket_address?.port_value;
  }

  /** A counter or gauge from /stats, e.g. "cluster.server.upstream_rq_total". */
  async stat(name: string): Promise<number | undefined> {
    const text = await this.send(`/stats?filter=${encodeURIComponent(`^${name.replaceAll(".", "\\.")}$`)}`);
    const m = /: (\d+)\s*$/m.exec(text);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  }

  /**
   * One per-endpoint counter of a cluster (per_endpoint_stats), by host:port, as
   * /stats/prometheus gives it to operators: "rq_total" reads envoy_cluster_endpoint_rq_total.
   */
  async endpointCounter(cluster: string, name: string): Promise<Record<string, number>> {
    const text = await this.send("/stats/prometheus");
    const out: Record<string, number> = {};
    const metric = `envoy_cluster_endpoint_${name}{`;
    for (const line of text.split("\n")) {
      if (!line.startsWith(metric)) continue;
      const labels = Object.fromEntries(
        [...line.slice(metric.length, line.lastIndexOf("}")).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [
          m[1],
          m[2],
        ]),
      );
      if (labels.envoy_cluster_name !== cluster || labels.envoy_endpoint_address === undefined) continue;
      out[labels.envoy_endpoint_address] = Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return out;
  }
}
