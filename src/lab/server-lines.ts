/** What a `grpc-lb serve` process prints that the lab reads: its ready lines and its certificate reloads. */

/** A server's certificate reloads, from the lines it prints. */
export interface TlsReloads {
  /** Reloads applied (tls-reloaded lines): a new certificate, key or client CA. */
  applied: number;
  /** Why the last change did not check out (tls-reload-failed), when no reload followed it. */
  lastFailure: string | undefined;
}

/** A tls-reloaded or tls-reload-failed line of `grpc-lb serve`, by instance id. */
function parseReload(line: string): { id: string; failure: string | undefined } | undefined {
  if (!line.startsWith('{"event":"tls-reload')) return undefined;
  try {
    const v = JSON.parse(line) as { event?: string; id?: unknown; error?: unknown };
    if (typeof v.id !== "string") return undefined;
    if (v.event === "tls-reloaded") return { id: v.id, failure: undefined };
    if (v.event === "tls-reload-failed") return { id: v.id, failure: String(v.error) };
    return undefined;
  } catch {
    return undefined;
  }
}

export interface ReadyLine {
  event: "ready";
  id: string;
  host: string;
  port: number;
  metricsPort: number;
}

/** A ready line of `grpc-lb serve`: one per address, with the ports it listens on. */
export function parseReady(line: string): ReadyLine | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(line) as Partial<ReadyLine>;
    return v.event === "ready" &&
      typeof v.id === "string" &&
      typeof v.port === "number" &&
      typeof v.host === "string" &&
      typeof v.metricsPort === "number"
      ? (v as ReadyLine)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `reloads` after the tls-reload* line `line`, by instance id; other lines change nothing. */
export function noteReload(reloads: Map<string, TlsReloads>, line: string): void {
  const e = parseReload(line);
  if (e === undefined) return;
  const was = reloads.get(e.id) ?? { applied: 0, lastFailure: undefined };
  reloads.set(
    e.id,
    e.failure === undefined
      ? { applied: was.applied + 1, lastFailure: undefined }
      : { ...was, lastFailure: e.failure },
  );
}
