import { execFile } from "node:child_process";
import { EngineError, messageOf } from "../../errors.js";

export interface DockerRunOptions {
  /** Give up (and kill the command) after this long, in ms. Default 60 000. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Extra environment (Compose variables). */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/** Runs `docker ARGS` to completion and returns its stdout; any failure is one EngineError line. */
export function docker(args: readonly string[], o: DockerRunOptions = {}): Promise<string> {
  const what = `docker ${args.join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = execFile(
      "docker",
      args,
      {
        timeout: o.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
        env: { ...process.env, ...o.env },
        ...(o.cwd ? { cwd: o.cwd } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        const detail =
          stderr.trim().split("\n").filter(Boolean).at(-1) ??
          (err.killed ? `killed after ${o.timeoutMs ?? 60_000} ms` : messageOf(err));
        const code = typeof err.code === "number" ? `exit ${err.code}` : String(err.code ?? "failed");
        reject(new EngineError(`compose: ${what}: ${code}: ${detail}`, { cause: err }));
      },
    );
    if (o.input !== undefined) {
      // A command that exits without reading all of it is judged by its exit, not by EPIPE.
      child.stdin?.on("error", () => {});
      child.stdin?.end(o.input);
    }
  });
}
