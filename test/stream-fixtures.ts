import type { StreamReport } from "../src/loadgen/streams/stream-report.js";

/** A stream run's report as startStreamLoad gives it: 6 quiet streams over h2, nothing ended; `over` sets the rest. */
export const streamReport = (over: Partial<StreamReport> = {}): StreamReport => ({
  target: "127.0.0.1:1",
  engine: "h2",
  kind: "subscribe",
  streams: 6,
  intervalMs: 100,
  maxLifetimeMs: 0,
  durationMs: 1000,
  samples: [],
  messagesByServer: {},
  addresses: {},
  endsByStatus: {},
  resumes: 0,
  delivered: 0,
  lost: 0,
  duplicated: 0,
  failedStreams: 0,
  failures: [],
  interrupted: false,
  ...over,
});
