/** How the server bounds and ends its long-lived streams (Subscribe, Exchange). */
export interface StreamLimits {
  /** The server's maximum stream lifetime, in ms (each stream ends within its last tenth, jittered); 0 is none. */
  maxLifetimeMs: number;
  /** Aborted when the server drains: every long-lived stream then ends with OK, so its client resumes elsewhere. */
  draining: AbortSignal;
}

/**
 * The lifetime of one stream: the shorter of the client's and the server's
 * maxima, less up to a tenth at random, so that streams opened together do not
 * all end (and resume) together, as grpc's max_connection_age jitters too.
 */
export function streamLifetimeMs(askedMs: number, serverMs: number, random = Math.random()): number {
  const limits = [askedMs, serverMs].filter((ms) => ms > 0);
  if (limits.length === 0) return 0;
  const shortest = Math.min(...limits);
  return Math.max(1, Math.round(shortest * (1 - 0.1 * random)));
}

/** One long-lived stream's clean end, shared by its drain, its lifetime and its client's cancel. */
export interface StreamEnding {
  /** True once the stream ended, one way or another: write nothing more. */
  readonly ended: boolean;
  /** Starts the lifetime the client asked for (bounded by the server's); call once. */
  startLifetime(askedMs: number): void;
  /** Ends the stream with OK (`end` runs once), unless it already ended. */
  endCleanly(): void;
  /** Forgets the stream without ending it (the client cancelled): clears timers and listeners. */
  stop(): void;
}

/**
 * Watches one stream for the server's drain and its lifetime: either ends it
 * with OK through `end`. A stream opened while draining ends at once.
 */
export function streamEnding(limits: StreamLimits, end: () => void): StreamEnding {
  let ended = false;
  let lifetime: NodeJS.Timeout | undefined;
  const stop = (): void => {
    ended = true;
    clearTimeout(lifetime);
    limits.draining.removeEventListener("abort", endCleanly);
  };
  function endCleanly(): void {
    if (ended) return;
    stop();
    end();
  }
  if (limits.draining.aborted) endCleanly();
  else limits.draining.addEventListener("abort", endCleanly, { once: true });
  return {
    get ended() {
      return ended;
    },
    startLifetime(askedMs) {
      const ms = streamLifetimeMs(askedMs, limits.maxLifetimeMs);
      if (ms > 0 && !ended) lifetime = setTimeout(endCleanly, ms);
    },
    endCleanly,
    stop,
  };
}
