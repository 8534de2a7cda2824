import { readFile, stat } from "node:fs/promises";
import { UsageError } from "../../errors.js";
import type { XdsSource } from "../source.js";
import type { DiscoveredEndpoint } from "../types.js";
import { parseEndpointsFile } from "./file-format.js";
import { EndpointList, sortEndpoints } from "./list.js";

export interface FileSourceOptions {
  /** The endpoints file (file-format.ts says what it holds). */
  path: string;
  /** How often the file is looked at (one stat; a read only when it changed), in ms. Default 250. */
  pollMs?: number;
  /** What the source reads and refuses, for a log (formatFileSourceEvent gives its line). Default: none. */
  onEvent?: (e: FileSourceEvent) => void;
}

export type FileSourceEvent =
  | { kind: "listed" | "changed"; path: string; endpoints: number; draining: number }
  | { kind: "rejected"; path: string; error: string; kept: number }
  | { kind: "valid-again"; path: string; endpoints: number };

const counted = (e: { endpoints: number; draining: number }): string =>
  `${e.endpoints} endpoint(s)${e.draining > 0 ? `, ${e.draining} DRAINING` : ""}`;

export function formatFileSourceEvent(e: FileSourceEvent): string {
  switch (e.kind) {
    case "listed":
      return `file source: read ${e.path}: ${counted(e)}; following it`;
    case "changed":
      return `file source: ${e.path} changed: ${counted(e)}`;
    case "rejected":
      return `file source: ${e.path} ${e.error}; keeping the last good list (${e.kept} endpoint(s))`;
    case "valid-again":
      return `file source: ${e.path} is valid again, with the same ${e.endpoints} endpoint(s)`;
  }
}

export interface FileSourceHandle {
  readonly source: XdsSource;
  /** Looks at the file now, as a poll tick does; resolves once done. */
  check(): Promise<void>;
  /** Stops following the file; the source keeps its last list. */
  stop(): void;
}

type Read = { signature: string } & (
  | { ok: true; endpoints: DiscoveredEndpoint[] }
  | { ok: false; why: string }
);

/** What changes when the file is rewritten in place or replaced by a rename (a new inode). */
async function signature(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? "?"}`;
  }
}

async function readEndpoints(path: string): Promise<Read> {
  const sig = await signature(path);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : String(code ?? e);
    return { signature: sig, ok: false, why: `cannot be read: ${why}` };
  }
  const parsed = parseEndpointsFile(text);
  return parsed.ok
    ? { signature: sig, ...parsed }
    : { signature: sig, ok: false, why: `is not an endpoints file: ${parsed.why}` };
}

const sameList = (a: readonly DiscoveredEndpoint[], b: readonly DiscoveredEndpoint[]): boolean =>
  JSON.stringify(a) === JSON.stringify(b);

/**
 * A source of the endpoints listed in a JSON file, read once (a missing or bad file is a
 * UsageError: there is no list to serve) and then followed. Why a poll of the file's stat and
 * not fs.watch: a writer replaces the file by a rename, which a watch on the file itself does
 * not survive; a watch on its directory misses changes on network and some container volume
 * file systems, coalesces events and can run out of inotify watches. One stat every 250 ms
 * costs nothing, sees a rename (a new inode) and a symlink swap alike, and is how the TLS
 * reloader follows its files. A bad update is logged once and the last good list kept; the
 * file is read again at the next tick, so a torn in-place write is taken once it is whole.
 */
export async function startFileSource(options: FileSourceOptions): Promise<FileSourceHandle> {
  const o = { pollMs: 250, onEvent: () => {}, ...options };
  if (!Number.isInteger(o.pollMs) || o.pollMs < 1)
    throw new UsageError(`file source: pollMs must be a whole number of ms, at least 1, got ${o.pollMs}`);
  const first = await readEndpoints(o.path);
  // Nothing to serve: the file is the command's input, as --endpoint is, so a usage error.
  if (!first.ok) throw new UsageError(`file source: ${o.path} ${first.why}`);
  const list = new EndpointList(`the endpoints file ${o.path}`);
  const publish = (endpoints: DiscoveredEndpoint[], kind: "listed" | "changed"): void => {
    list.set(endpoints);
    const draining = endpoints.filter((e) => e.health === "DRAINING").length;
    o.onEvent({ kind, path: o.path, endpoints: endpoints.length, draining });
  };
  publish(first.endpoints, "listed");
  let seen = first.signature;
  let failure: string | undefined;

  const poll = async (): Promise<void> => {
    if ((await signature(o.path)) === seen) return;
    const r = await readEndpoints(o.path);
    const kept = list.current() ?? [];
    if (!r.ok) {
      // The signature is not recorded: the next tick reads again, e.g. once a torn write is whole.
      if (r.why !== failure) o.onEvent({ kind: "rejected", path: o.path, error: r.why, kept: kept.length });
      failure = r.why;
      return;
    }
    seen = r.signature;
    const recovered = failure !== undefined;
    failure = undefined;
    if (!sameList(sortEndpoints(r.endpoints), kept)) publish(r.endpoints, "changed");
    else if (recovered) o.onEvent({ kind: "valid-again", path: o.path, endpoints: kept.length });
  };
  let inFlight: Promise<void> | undefined;
  const check = (): Promise<void> => {
    inFlight ??= poll().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const timer = setInterval(() => void check(), o.pollMs);
  timer.unref();
  return { source: list, check, stop: () => clearInterval(timer) };
}
