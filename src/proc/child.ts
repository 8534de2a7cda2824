import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { ProcessError } from "../errors.js";
import { withTimeout } from "../util/wait.js";
import { LineTail } from "./tail.js";

export interface ChildOptions {
  /** Short name used in messages, e.g. "server 2" or "envoy". */
  name: string;
  command: string;
  args: readonly string[];
  /** Extra environment variables; the parent's environment is inherited. */
  env?: Record<string, string>;
  /** Working directory. Default: this process's. */
  cwd?: string;
  /**
   * Write stdout and stderr to this file instead of reading them: for a command that opens
   * /dev/stdout or /dev/stderr itself (an Envoy access log), which fails on the socket a read
   * stream is (ENXIO). stderrTail() then reads the file's end; no stdout line is seen.
   */
  logFile?: string;
  /** Called for every stdout line (ready lines included). */
  onStdoutLine?: (line: string) => void;
}

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** Lifecycle of a child as the parent sees it. */
export type ChildState = { t: "running" } | { t: "exited"; exit: ExitInfo };

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  state(): ChildState;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** The last lines the child wrote to stderr. */
  stderrTail(): string;
  /** Waits for a stdout line that `match` accepts; rejects if the child exits first or time runs out. */
  waitForLine<T>(
    what: string,
    match: (line: string) => T | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T>;
  /** `signal` (SIGTERM) to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number, signal?: NodeJS.Signals): Promise<ExitInfo>;
  /** SIGKILL to the process group at once. */
  kill(): void;
}

// Children still running when this process exits for any reason get SIGKILL,
// so a crash of the parent does not orphan servers or Envoy.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) killGroup(child, "SIGKILL");
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

export function describeExit(exit: ExitInfo): string {
  if (exit.signal !== null) return `was killed by ${exit.signal}`;
  if (exit.code === null) return "could not be started";
  // setpriv's (and a shell's) code for a command that could not be run.
  if (exit.code === 126 || exit.code === 127) return `could not be run (exit code ${exit.code})`;
  return `exited with code ${exit.code}`;
}

// setpriv (util-linux) sets PR_SET_PDEATHSIG and execs the command: the kernel
// kills the child when this process dies, even by SIGKILL, when no exit hook runs.
const SETPRIV = "/usr/bin/setpriv";
let setprivUsable: boolean | undefined;
function dieWithParent(command: string, args: readonly string[]): [string, string[]] {
  setprivUsable ??= process.platform === "linux" && existsSync(SETPRIV);
  return setprivUsable ? [SETPRIV, ["--pdeathsig", "KILL", "--", command, ...args]] : [command, [...args]];
}

/**
 * Starts a child in its own process group (so stopping it also stops anything
 * it started) with stdout read line by line and stderr kept for messages. The
 * child dies with this process, however this process ends.
 */
export function startChild(options: ChildOptions): ChildHandle {
  installExitHook();
  const [command, args] = dieWithParent(options.command, options.args);
  const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
  const child = spawn(command, args, {
    detached: true,
    stdio: logFd === undefined ? ["ignore", "pipe", "pipe"] : ["ignore", logFd, logFd],
    env: { ...process.env, ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  if (logFd !== undefined) closeSync(logFd);
  const tail = new LineTail(30);
  const logTail = (): string => {
    if (options.logFile === undefined) return tail.text();
    const t = new LineTail(30);
    t.push(readFileSync(options.logFile, "utf8"));
    return t.text();
  };
  let state: ChildState = { t: "running" };
  const lineWaiters = new Set<(line: string) => void>();

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      live.delete(child);
      state = { t: "exited", exit: { code, signal } };
      resolve({ code, signal });
    });
    // A process that could not be spawned at all (ENOENT, EACCES) emits no "exit".
    child.once("error", () => {
      if (child.pid !== undefined) return;
      state = { t: "exited", exit: { code: null, signal: null } };
      resolve(state.exit);
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));

  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => tail.push(chunk));
  if (child.stdout) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      options.onStdoutLine?.(line);
      for (const waiter of lineWaiters) waiter(line);
    });
  }
  if (child.pid !== undefined) live.add(child);

  const handle: ChildHandle = {
    name: options.name,
    pid: child.pid ?? -1,
    state: () => state,
    exited,
    stderrTail: logTail,
    async waitForLine<T>(
      what: string,
      match: (line: string) => T | undefined,
      timeoutMs: number,
      signal?: AbortSignal,
    ) {
      let onLine: ((line: string) => void) | undefined;
      const found = new Promise<T>((resolve) => {
        onLine = (line) => {
          const value = match(line);
          if (value !== undefined) resolve(value);
        };
        lineWaiters.add(onLine);
      });
      const failed = Promise.race([
        exited.then((exit) => {
          const err = logTail();
          return new ProcessError(
            `${options.name} ${describeExit(exit)} before ${what}${err ? `:\n${err}` : ""}`,
          );
        }),
        spawnError.then(
          (e) => new ProcessError(`${options.name} could not be started (${options.command}): ${e.message}`),
        ),
      ]).then((e) => {
        throw e;
      });
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        if (signal === undefined) return;
        onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      try {
        return await withTimeout(
          `${options.name}: ${what}`,
          Promise.race([found, failed, aborted]),
          timeoutMs,
        );
      } finally {
        if (onLine) lineWaiters.delete(onLine);
        if (onAbort) signal?.removeEventListener("abort", onAbort);
      }
    },
    async stop(graceMs = 5000, signal: NodeJS.Signals = "SIGTERM") {
      if (state.t === "exited") return state.exit;
      killGroup(child, signal);
      const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
      try {
        const exit = await exited;
        // The leader is gone; make sure nothing it started outlives it.
        killGroup(child, "SIGKILL");
        return exit;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      killGroup(child, "SIGKILL");
    },
  };
  return handle;
}
