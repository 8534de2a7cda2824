import { isIPv4 } from "node:net";
import { UsageError } from "../errors.js";

/** Default first server address: a /16 of the loopback range nothing else here uses. */
export const DEFAULT_ADDRESS_BASE = "127.77.0.1";

const toInt = (ip: string): number => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");

/**
 * `count` distinct loopback addresses from `base` on, skipping those ending
 * in .0 or .255 — one per server, like containers on one compose network,
 * so every server can listen on the same port.
 */
export function loopbackAddresses(base: string, count: number): string[] {
  if (!isIPv4(base) || !base.startsWith("127.")) {
    throw new UsageError(`lab: address base must be an IPv4 loopback address (127.x.y.z), got '${base}'`);
  }
  const out: string[] = [];
  let n = toInt(base);
  const end = toInt("127.255.255.254");
  while (out.length < count && n <= end) {
    const last = n & 255;
    if (last !== 0 && last !== 255) out.push(toIp(n));
    n += 1;
  }
  if (out.length < count) {
    throw new UsageError(
      `lab: only ${out.length} loopback addresses from ${base} to 127.255.255.254, ${count} needed`,
    );
  }
  return out;
}
