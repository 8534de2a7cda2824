import { Counter, Gauge } from "prom-client";
import { ServerMetrics } from "../server/metrics.js";
import type { XdsEvent } from "./events.js";
import type { DiscoveredEndpoint } from "./types.js";
import { TYPE_LABELS } from "./types.js";

/** Longest NACK message kept as a label: Envoy's can be long, and a label is no log. */
const MAX_ERROR_LABEL = 200;

/**
 * The xDS server's Prometheus metrics, beside the process's and its gRPC calls' (ServerMetrics):
 * what was pushed to which node, what each node ACKed and NACKed, and what the source lists.
 */
export class XdsMetrics extends ServerMetrics {
  private readonly pushes = this.counter("xds_pushes_total", "Responses sent, by node and type");
  private readonly acks = this.counter("xds_acks_total", "Responses a node accepted, by node and type");
  private readonly nacks = this.counter("xds_nacks_total", "Responses a node rejected, by node and type");
  private readonly stale = this.counter(
    "xds_stale_requests_total",
    "Requests ignored for a nonce older than the last response of their type",
  );
  private readonly streams = new Gauge({
    name: "xds_streams",
    help: "ADS streams open, by node",
    labelNames: ["node_id"] as const,
    registers: [this.registry],
  });
  private readonly versions = this.info(
    "xds_pushed_version_info",
    "The version last pushed to each node, by type (value 1)",
    ["node_id", "type", "version"],
  );
  private readonly rejected = this.info(
    "xds_nacked_version_info",
    "The version each node last rejected, by type, with its error (value 1)",
    ["node_id", "type", "version", "error"],
  );
  private readonly endpoints = new Gauge({
    name: "xds_endpoints",
    help: "Endpoints the source lists, by health status",
    labelNames: ["health"] as const,
    registers: [this.registry],
  });
  private readonly synced = new Gauge({
    name: "xds_source_synced",
    help: "1 once the source has its full list (the server answers nothing before)",
    registers: [this.registry],
  });
  private readonly lastLabels = new Map<string, Record<string, string>>();

  /** Counts one event. */
  record(e: XdsEvent): void {
    if (e.kind === "synced" || e.kind === "unknown-type") return;
    const node = { node_id: e.node };
    if (e.kind === "stream-opened") this.streams.inc(node);
    else if (e.kind === "stream-closed") this.streams.dec(node);
    else if (e.kind === "waiting") return;
    else {
      const labels = { ...node, type: TYPE_LABELS[e.type] };
      if (e.kind === "push") {
        this.pushes.inc(labels);
        this.replace(this.versions, `push ${e.node} ${e.type}`, { ...labels, version: e.version });
      } else if (e.kind === "ack") this.acks.inc(labels);
      else if (e.kind === "stale") this.stale.inc(labels);
      else {
        this.nacks.inc(labels);
        const error = e.message.slice(0, MAX_ERROR_LABEL);
        this.replace(this.rejected, `nack ${e.node} ${e.type}`, { ...labels, version: e.rejected, error });
      }
    }
  }

  /** What the source lists now; undefined: not synced yet. */
  source(endpoints: readonly DiscoveredEndpoint[] | undefined): void {
    this.synced.set(endpoints === undefined ? 0 : 1);
    for (const health of ["HEALTHY", "DRAINING"] as const)
      this.endpoints.set({ health }, endpoints?.filter((e) => e.health === health).length ?? 0);
  }

  private counter(name: string, help: string): Counter<"node_id" | "type"> {
    return new Counter({ name, help, labelNames: ["node_id", "type"] as const, registers: [this.registry] });
  }

  private info<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** Sets an info gauge's series for `key` to `labels`, removing the one it had before. */
  private replace<L extends string>(g: Gauge<L>, key: string, labels: Record<L, string>): void {
    const before = this.lastLabels.get(key);
    if (before !== undefined) g.remove(before as Record<L, string>);
    g.set(labels, 1);
    this.lastLabels.set(key, labels);
  }
}
