import { rm } from "node:fs/promises";
import { type DnsServerHandle, startDnsServer } from "../dns/server.js";
import { errorFrom, LabError } from "../errors.js";
import { formatHostPort } from "../util/address.js";
import type { Disposers } from "../util/disposers.js";
import type { LabEvent } from "./events.js";
import { SERVER_NAME } from "./lab-envoy.js";
import { makeLabWorkDir } from "./workdir.js";

/** What every lab starts first: its work directory and its DNS server ('server' answers nothing yet). */
export async function startLabBase(
  disposers: Disposers,
  onEvent: (e: LabEvent) => void,
): Promise<{ workDir: string; dns: DnsServerHandle }> {
  const workDir = disposers.use(await makeLabWorkDir(), (dir) => rm(dir, { recursive: true, force: true }));
  const dns = disposers.use(
    await startDnsServer({ host: "127.0.0.1", port: 0, records: { [SERVER_NAME]: [] } }),
    (d) => d.stop(),
  );
  onEvent({ kind: "dns-started", address: formatHostPort(dns.host, dns.port) });
  return { workDir, dns };
}

/**
 * A lab's stop(): releases its disposers once, saying why and how long it took; later
 * calls return the same promise. Shared by every lab lifecycle (Envoy's, the peers').
 */
export function labStopper(
  disposers: Disposers,
  onEvent: (e: LabEvent) => void,
): (reason?: string) => Promise<void> {
  let stopping: Promise<void> | undefined;
  return (reason = "done") => {
    stopping ??= (async () => {
      const t = performance.now();
      onEvent({ kind: "stopping", reason });
      await disposers.dispose().catch(() => {});
      onEvent({ kind: "stopped", elapsedMs: Math.round(performance.now() - t) });
    })();
    return stopping;
  };
}

/** A lab that failed to start: releases what did start and says whether Ctrl-C was the cause. */
export async function labStartFailed(disposers: Disposers, e: unknown, signal?: AbortSignal): Promise<never> {
  await disposers.dispose().catch(() => {});
  if (signal?.aborted) {
    throw new LabError("interrupted while starting; everything started was stopped", { cause: e });
  }
  throw errorFrom(LabError, e);
}
