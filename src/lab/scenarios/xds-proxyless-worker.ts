/**
 * The entry of the proxyless load's worker thread (see xds-proxyless-thread.ts): it runs the
 * paced load and posts every call's outcome as it ends, with where the load's clock starts
 * (performance.timeOrigin + performance.now(), which both threads read alike).
 */
import { parentPort, workerData } from "node:worker_threads";
import { messageOf } from "../../errors.js";
import { type PacedLoadOptions, startPacedLoad } from "../../loadgen/paced-load.js";
import type { FromProxyless, ToProxyless } from "./xds-proxyless-thread.js";

const port = parentPort;
if (port === null) throw new Error("xds-proxyless-worker.js runs as a worker thread only");
const post = (m: FromProxyless): void => port.postMessage(m);
const zeroEpochMs = (): number => performance.timeOrigin + performance.now() - load.now();

const load = startPacedLoad(workerData as Omit<PacedLoadOptions, "signal">);
let sent = 0;
// The load keeps its results in a live array: post what is new, a few times per 10 ms at most.
const timer = setInterval(() => {
  if (sent === load.results.length) return;
  post({ kind: "results", zeroEpochMs: zeroEpochMs(), results: load.results.slice(sent) });
  sent = load.results.length;
}, 5);

port.on("message", (m: ToProxyless) => {
  if (m.kind !== "stop") return;
  load
    .stop()
    .then(
      (all) => post({ kind: "stopped", zeroEpochMs: zeroEpochMs(), results: all.slice(sent) }),
      (e: unknown) => post({ kind: "failed", message: messageOf(e) }),
    )
    .finally(() => clearInterval(timer));
});
