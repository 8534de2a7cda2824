import { formatHostPort } from "../util/address.js";
import type { UpstreamHost } from "./admin.js";

/** A title line, then one line per host: "  10.244.0.7:50051     healthy, 12 calls so far". */
export function formatHostsTable(title: string, hosts: readonly UpstreamHost[]): string {
  const lines = [title];
  for (const h of hosts) {
    lines.push(
      `  ${formatHostPort(h.address, h.port).padEnd(21)} ${h.healthy ? "healthy" : "unhealthy"}, ${h.requestsTotal} calls so far`,
    );
  }
  return `${lines.join("\n")}\n`;
}
