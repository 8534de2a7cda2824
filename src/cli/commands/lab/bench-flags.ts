import type { ProxiesOptions } from "../../../bench/proxies.js";
import { UsageError } from "../../../errors.js";
import { PROXY_KINDS, type ProxyKind } from "../../../peers/options.js";
import { intFlag } from "../../args.js";

export const BENCH_COMMAND = "lab bench";
const COMMAND = BENCH_COMMAND;

/** --proxies as distinct known proxy names; undefined when neither it nor --proxy-workers is given. */
export function proxiesFlag(
  value: string | undefined,
  workers: number | undefined,
): ProxiesOptions | undefined {
  if (value === undefined) return workers === undefined ? undefined : { workers };
  const items = value.split(",").map((v) => v.trim());
  const unknown = items.filter((p) => !PROXY_KINDS.includes(p as ProxyKind));
  if (unknown.length > 0 || items.length === 0 || new Set(items).size !== items.length)
    throw new UsageError(
      `grpc-lb ${COMMAND}: --proxies must list distinct proxies of ${PROXY_KINDS.join(", ")}, got '${value}'`,
    );
  return { proxies: items as ProxyKind[], ...(workers === undefined ? {} : { workers }) };
}

/** A comma-separated list of integers in [min, max]; undefined when absent. */
export function listFlag(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").map((v) => intFlag(COMMAND, name, v, { min, max }) as number);
  if (items.length === 0 || new Set(items).size !== items.length)
    throw new UsageError(`grpc-lb ${COMMAND}: --${name} must list distinct integers, got '${value}'`);
  return items;
}
