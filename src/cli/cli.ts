import { constants } from "node:os";
import { InterruptedError } from "../errors.js";
import { main } from "./main.js";

// The process entry: wires signals and stdio to main(). A first SIGINT, SIGTERM
// or SIGHUP (a closed terminal) asks the running command to stop cleanly; a
// second one exits at once (the child-process exit hook still kills what was
// started, and the children die with this process anyway).
const HANDLED = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const ac = new AbortController();
let signals = 0;
const onSignal = (sig: NodeJS.Signals): void => {
  signals += 1;
  if (signals === 1) ac.abort(new InterruptedError(sig));
  else process.exit(128 + constants.signals[sig]);
};
for (const sig of HANDLED) process.on(sig, onSignal);

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: ac.signal,
});
// Nothing of ours should keep the loop alive now; let pending writes flush.
for (const sig of HANDLED) process.off(sig, onSignal);
// A library's timer may still hold the loop long after the command is done: grpc-js-xds keeps
// a 15-minute one once an assignment has emptied, and closing the channel does not clear it.
// So exit after a short grace; the timer is unref'd and never delays an exit that comes sooner.
setTimeout(() => process.exit(), 1000).unref();
