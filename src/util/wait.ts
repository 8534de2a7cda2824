import { setTimeout as delay } from "node:timers/promises";

export interface WaitOptions {
  /** Give up after this long, in milliseconds. */
  timeoutMs: number;
  /** Pause between two checks, in milliseconds. Default 50. */
  intervalMs?: number;
  /** Stops waiting early (the rejection is the signal's reason). */
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}

/**
 * Polls `check` until it returns a value other than `undefined` and returns it.
 * An error thrown by `check` ends the wait at once (a part died: no point
 * waiting on); `check` returns undefined for "not yet". On timeout the error
 * names what was awaited and the last observation ("saw 2 of 3").
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
  describeLast?: () => string,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 50;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) {
      const last = describeLast?.();
      throw new WaitTimeoutError(
        `gave up after ${options.timeoutMs} ms waiting for ${what}${last ? ` (last seen: ${last})` : ""}`,
      );
    }
    await delay(Math.min(intervalMs, Math.max(1, deadline - Date.now())), undefined, {
      signal: options.signal,
    }).catch((e: unknown) => {
      throw options.signal?.reason ?? e;
    });
  }
}

/** Resolves with the promise's value, or rejects naming `what` after `timeoutMs`. */
export async function withTimeout<T>(what: string, promise: Promise<T>, timeoutMs: number): Promise<T> {
  const ac = new AbortController();
  try {
    return await Promise.race([
      promise,
      delay(timeoutMs, undefined, { signal: ac.signal }).then(() => {
        throw new WaitTimeoutError(`gave up after ${timeoutMs} ms waiting for ${what}`);
      }),
    ]);
  } finally {
    ac.abort();
  }
}

/** Resolves or rejects as the promise does, or rejects with the signal's reason as soon as it is aborted. */
export async function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
