import { messageOf } from "../errors.js";
import { WaitTimeoutError } from "../util/wait.js";
import type { ScenarioContext } from "./scenario.js";

/*
 * What a certificate-rotation step waits to see, on any engine: each party (an Envoy,
 * a server) showing the new certificate on the wire, holding it, or reloading its trust.
 */

/** One change a rotation step waits to see in one party. */
export interface CertExpectation {
  what: string;
  /** Looks once: whether the change shows, and what was seen. */
  look(): Promise<{ ok: boolean; seen: string }>;
}

/** A serial as certificates and manifests spell it differently: upper-case hex, no leading zeros. */
export const sameSerial = (a: string, b: string): boolean =>
  a.toUpperCase().replace(/^0+/, "") === b.toUpperCase().replace(/^0+/, "");

/** Whether a handshake showed `serial`, chained to the bundle it was checked against. */
export const showsSerial = (
  c: { serial: string; trusted: boolean },
  serial: string,
): { ok: boolean; seen: string } => ({
  ok: sameSerial(c.serial, serial) && c.trusted,
  seen: `serial ${c.serial}${c.trusted ? "" : " (not trusted by the current bundle)"}`,
});

/** How one expectation went: seen after `ms` (since the step wrote), or missed, saying what was seen last. */
export interface SeenResult {
  ok: boolean;
  ms: number;
  detail: string;
}

/** Waits for one expectation within `budgetMs` through the scenario's waits; a miss is a result, not an error. */
export async function waitSeen(
  waitFor: ScenarioContext<unknown>["waitFor"],
  e: CertExpectation,
  since: number,
  budgetMs: number,
): Promise<SeenResult> {
  let last = "nothing yet";
  try {
    await waitFor(
      e.what,
      async () => {
        const r = await e.look().catch((err: unknown) => ({ ok: false, seen: messageOf(err) }));
        last = r.seen;
        return r.ok ? true : undefined;
      },
      budgetMs,
      () => last,
    );
    return { ok: true, ms: performance.now() - since, detail: "" };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    return {
      ok: false,
      ms: performance.now() - since,
      detail: `${e.what} within ${budgetMs} ms: still ${last}`,
    };
  }
}
