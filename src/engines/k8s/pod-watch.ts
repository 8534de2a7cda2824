import { type ChildHandle, startChild } from "../../proc/child.js";
import type { KubeTarget } from "./kubectl.js";

/** A change of one pod as `kubectl get pods --watch` reported it, stamped on the caller's clock. */
export interface PodEvent {
  atMs: number;
  name: string;
  ip: string;
  ready: boolean;
  deleting: boolean;
}

export interface PodWatch {
  readonly events: readonly PodEvent[];
  /** When the pod was first seen Ready, on the caller's clock. */
  readyAt(name: string): number | undefined;
  /** When the pod was first seen terminating. */
  deletingAt(name: string): number | undefined;
  stop(): Promise<void>;
}

// One line per pod and change: name, IP, deletion time, Ready status. Separated by "|",
// not tabs: kubectl passes watch output through a tab writer that turns tabs into spaces.
const TEMPLATE =
  '{.metadata.name}{"|"}{.status.podIP}{"|"}{.metadata.deletionTimestamp}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}';

/** One line of the watch's output as an event at `atMs`; undefined for a line that names no pod. */
export function parsePodLine(line: string, atMs: number): PodEvent | undefined {
  const [name, ip, deletion, ready] = line.trim().split("|");
  if (!name) return undefined;
  return { atMs, name, ip: ip ?? "", ready: ready === "True", deleting: (deletion ?? "") !== "" };
}

/** Follows the pods that `selector` matches, noting when each becomes Ready and starts terminating. */
export function watchPods(t: KubeTarget, selector: string, now: () => number): PodWatch {
  const events: PodEvent[] = [];
  const child: ChildHandle = startChild({
    name: `kubectl get pods --watch -l ${selector}`,
    command: t.kubectl,
    args: ["-n", t.namespace, "get", "pods", "-l", selector, "--watch", "-o", `jsonpath=${TEMPLATE}`],
    env: t.env,
    onStdoutLine(line) {
      const event = parsePodLine(line, now());
      if (event !== undefined) events.push(event);
    },
  });
  return {
    events,
    readyAt: (name) => events.find((e) => e.name === name && e.ready)?.atMs,
    deletingAt: (name) => events.find((e) => e.name === name && e.deleting)?.atMs,
    async stop() {
      await child.stop(2000);
    },
  };
}
