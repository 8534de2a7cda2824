import { connect } from "node:net";
import { PeerError } from "../../errors.js";
import { withTimeout } from "../../util/wait.js";
import { HAPROXY_NAMES } from "./types.js";

/** One slot of the backend's server-template, as `show stat` lists it. */
export interface HaproxyServerStat {
  /** srv1, srv2, … */
  slot: string;
  /** host:port DNS gave the slot; "" while it has none. */
  address: string;
  /** "UP", "DOWN", "MAINT (resolution)" for a slot with no address, … */
  status: string;
  /** Calls (HTTP/2 streams) HAProxy sent to it so far. */
  calls: number;
}

/** Sends one command to HAProxy's stats socket and returns the whole answer. */
function ask(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(socketPath, () => socket.end(`${command}\n`));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.once("end", () => resolve(text));
    socket.once("error", reject);
  });
}

/** Parses `show stat` CSV (a "# name,name,…" header, one row per proxy or server) by column name. */
export function parseShowStat(csv: string): Record<string, string>[] {
  const [header = "", ...rows] = csv.split("\n").filter((l) => l.trim() !== "");
  const names = header.replace(/^#\s*/, "").split(",");
  return rows.map((row) => {
    const cells = row.split(",");
    return Object.fromEntries(names.map((n, i) => [n, cells[i] ?? ""]));
  });
}

/** The backend's server slots, in HAProxy's words: address, state, calls sent. */
export async function haproxyServers(socketPath: string): Promise<HaproxyServerStat[]> {
  let csv: string;
  try {
    csv = await withTimeout("HAProxy's stats socket", ask(socketPath, "show stat"), 2000);
  } catch (e) {
    throw new PeerError(`cannot read HAProxy's stats at ${socketPath}: ${String(e)}`, { cause: e });
  }
  return parseShowStat(csv)
    .filter((r) => r.pxname === HAPROXY_NAMES.backend && r.svname?.startsWith(HAPROXY_NAMES.slot))
    .map((r) => ({
      slot: r.svname ?? "",
      address: r.addr ?? "",
      status: r.status ?? "",
      calls: Number(r.stot ?? 0),
    }));
}
