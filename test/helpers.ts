import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { CommandContext } from "../src/cli/args.js";
import { cliEntry } from "../src/paths.js";
import { waitFor } from "../src/util/wait.js";

/** A CommandContext that records what a command printed. */
export function captureContext(signal: AbortSignal = new AbortController().signal) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CommandContext = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), signal };
  return { ctx, stdout: () => out.join(""), stderr: () => err.join("") };
}

export interface CliRun {
  child: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  stderr: () => string;
  /** Resolves with the first stdout line that `match` accepts. */
  line(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const spawned = new Set<ChildProcess>();

/**
 * Kills (SIGKILL) every CLI child a test started that is still running, so a
 * failed assertion cannot leave a server behind and hang the test file.
 * Each test file calls it from an after() hook.
 */
export function killSpawned(): void {
  for (const child of spawned)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  spawned.clear();
}

/** Runs the compiled CLI (the same file bin/grpc-lb runs) as a child process. */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [cliEntry, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  spawned.add(child);
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (c: string) => {
    stderr += c;
  });
  createInterface({ input: child.stdout }).on("line", (l) => {
    lines.push(l);
    for (const fn of listeners) fn(l);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exit,
    line(match, timeoutMs = 30_000) {
      const found = lines.find(match);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(fn);
          reject(new Error(`no matching stdout line within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        const fn = (l: string): void => {
          if (!match(l)) return;
          clearTimeout(timer);
          listeners.delete(fn);
          resolve(l);
        };
        listeners.add(fn);
        void exit.then(() => {
          if (!listeners.has(fn)) return;
          clearTimeout(timer);
          listeners.delete(fn);
          reject(new Error(`exited before a matching stdout line; stderr:\n${stderr}`));
        });
      });
    },
  };
}

/** True while a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits until none of the processes is alive; fails naming the ones still running. */
export async function waitAllGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  await waitFor(
    `processes ${pids.join(", ")} to be gone`,
    () => (pids.every((p) => !isAlive(p)) ? true : undefined),
    { timeoutMs, intervalMs: 20 },
    () => `still alive: ${pids.filter(isAlive).join(", ")}`,
  );
}

/** The pids the lab reported in its progress lines ("(pid 123)"). */
export function pidsIn(text: string): number[] {
  return [...text.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/** Every process descended from `pid`, read from /proc (children, their children, …). */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // Gone in between.
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    for (const [child, ppid] of parent) {
      if (ppid === p) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

export interface Interrupted {
  /** From SIGINT to the CLI's exit, in ms. */
  elapsedMs: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** Its descendants when SIGINT was sent, and every pid it reported. */
  pids: number[];
  output: string;
}

/**
 * Runs the CLI, sends SIGINT as soon as `marker` shows on its stdout or
 * stderr (the phase to interrupt), and measures how long it takes to exit.
 */
export async function interruptAt(args: string[], marker: RegExp, timeoutMs = 60_000): Promise<Interrupted> {
  const run = spawnCli(args);
  const output = (): string => `${run.lines.join("\n")}\n${run.stderr()}`;
  await waitFor(
    `'${marker.source}' from grpc-lb ${args.join(" ")}`,
    () => (marker.test(output()) ? true : undefined),
    {
      timeoutMs,
      intervalMs: 2,
    },
  );
  const pids = descendants(run.child.pid ?? -1);
  const t0 = performance.now();
  run.child.kill("SIGINT");
  const exit = await run.exit;
  const elapsedMs = performance.now() - t0;
  return { elapsedMs, exit, pids: [...new Set([...pids, ...pidsIn(run.stderr())])], output: output() };
}
