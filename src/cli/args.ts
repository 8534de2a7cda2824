import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import { parseHostPort } from "../util/address.js";

/** What a command gets besides its arguments; tests pass their own. */
export interface CommandContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the exit code. Throws UsageError for bad arguments, GrpcLbError for failures. */
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/** util.parseArgs with strict checking, whose errors become one-line UsageErrors. */
export function parseFlags<T extends OptionSpec>(
  command: string,
  argv: string[],
  options: T,
  positionals = false,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: positionals,
    });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    const option = /'(-[^' ]*)/.exec(err.message ?? "")?.[1];
    const detail = (() => {
      switch (err.code) {
        case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
          return `unknown option ${option ?? ""}`.trim();
        case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
          return option ? `option ${option} needs a value` : (err.message ?? "invalid option value");
        case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
          return `unexpected argument ${/'([^']*)'/.exec(err.message ?? "")?.[1] ?? ""}`.trim();
        default:
          return err.message ?? String(e);
      }
    })();
    throw new UsageError(`grpc-lb ${command}: ${detail} (see grpc-lb ${command} --help)`, { cause: e });
  }
}

/** An integer flag: undefined when absent, UsageError when not an integer in [min, max]. */
export function intFlag(
  command: string,
  name: string,
  value: string | undefined,
  range: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(
      `grpc-lb ${command}: --${name} must be an integer from ${range.min} to ${range.max}, got '${value}'`,
    );
  }
  return n;
}

/** A choice flag: undefined when absent, UsageError naming the choices otherwise. */
export function choiceFlag<C extends string>(
  command: string,
  name: string,
  value: string | undefined,
  choices: readonly C[],
): C | undefined {
  if (value === undefined) return undefined;
  const canonical = (text: string): string => text.toLowerCase().replaceAll("-", "_");
  const found = choices.find((c) => canonical(c) === canonical(value));
  if (found === undefined) {
    throw new UsageError(
      `grpc-lb ${command}: --${name} must be one of ${choices.join(", ")}, got '${value}'`,
    );
  }
  return found;
}

/** A host:port flag. */
export function hostPortFlag(command: string, name: string, value: string | undefined) {
  if (value === undefined) return undefined;
  const parsed = parseHostPort(value);
  if (parsed === undefined) {
    throw new UsageError(`grpc-lb ${command}: --${name} must be HOST:PORT (port 1-65535), got '${value}'`);
  }
  return parsed;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as Go (and ghz) write it: 500ms, 10s, 1m30s, in ms; undefined when absent. */
export function durationFlag(command: string, name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  for (let m = part.exec(value); m !== null; m = part.exec(value)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000);
    at = part.lastIndex;
  }
  if (at === 0 || at !== value.length || ms <= 0 || ms > 86_400_000)
    throw new UsageError(
      `grpc-lb ${command}: --${name} must be a duration such as 500ms, 10s or 1m30s, got '${value}'`,
    );
  return Math.round(ms);
}
