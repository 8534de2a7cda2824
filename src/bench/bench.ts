import type { LabEvent } from "../lab/events.js";
import { runScenario } from "../lab/scenarios/run.js";
import type { PeerEvent } from "../peers/events.js";
import type { ScenarioReport } from "../scenarios/report.js";
import { formatScenarioReport } from "../scenarios/report.js";
import { type GhzBench, runGhzBench } from "./ghz.js";
import { formatGhzBench } from "./ghz-report.js";
import { type ProxiesOptions, type ProxiesProgress, runProxies } from "./proxies.js";
import { formatProxies } from "./proxies-report.js";
import type { ProxiesResult } from "./proxies-result.js";
import { runSizing, type SizingOptions, type SizingProgress } from "./sizing.js";
import { formatSizing } from "./sizing-report.js";
import type { SizingResult } from "./sizing-result.js";
import { runTlsCost, type TlsCostOptions, type TlsCostProgress } from "./tls-cost.js";
import { formatTlsCost } from "./tls-cost-report.js";
import type { TlsCostResult } from "./tls-cost-result.js";

/** The tables `lab bench` measures: the Envoy hop's sizing, what TLS costs, both, or only each proxy's cost. */
export const BENCH_ROWS = ["all", "sizing", "tls", "proxies"] as const;
export type BenchRows = (typeof BENCH_ROWS)[number];

export interface BenchOptions {
  /** Which tables to measure. Default "all". */
  rows?: BenchRows;
  /** The sizing table's options. Default resolveSizingOptions's. */
  sizing?: SizingOptions;
  /** The TLS table's options. Default resolveTlsCostOptions's. */
  tls?: TlsCostOptions;
  /** Each proxy's cost beside Envoy's: measured with rows "proxies", or with "all" when given. Default none. */
  proxies?: ProxiesOptions | undefined;
  /** A ghz binary: after the table, our load tool beside ghz on a lab of its own. Default none. */
  ghz?: string | undefined;
  /** Then the `many` scenario at this many servers (125 per process): scale figures. Default none. */
  scaleServers?: number | undefined;
}

/** Servers per process for the scale run: 1,000 fit in 8 processes. */
const SCALE_SERVERS_PER_PROCESS = 125;

/** Everything `lab bench` printed, as one value: what `--json` and `--out` write. */
export interface BenchResult {
  /** The sizing table; null when not asked for (rows "tls"). */
  sizing: SizingResult | null;
  /** What TLS costs; null when not asked for (rows "sizing"). */
  tls: TlsCostResult | null;
  /** Each proxy's cost in one run; null when not asked for. */
  proxies: ProxiesResult | null;
  ghz: GhzBench | null;
  /** The `many` scenario's report at `scaleServers`; null when not asked for. */
  scale: ScenarioReport | null;
}

/**
 * What the Envoy hop costs, as a sizing table (runSizing), and what TLS adds to it
 * (runTlsCost), then, given ghz, our load tool beside ghz. A benchmark: numbers only,
 * no thresholds.
 */
export async function runBench(
  options: BenchOptions,
  onEvent: (e: LabEvent | PeerEvent) => void,
  onRun: { sizing: SizingProgress; tls: TlsCostProgress; proxies: ProxiesProgress },
  signal?: AbortSignal,
): Promise<BenchResult> {
  const rows = options.rows ?? "all";
  const only = (r: BenchRows): boolean => rows === "all" || rows === r;
  const sizing = only("sizing") ? await runSizing(options.sizing ?? {}, onEvent, onRun.sizing, signal) : null;
  const tls = only("tls") ? await runTlsCost(options.tls ?? {}, onEvent, onRun.tls, signal) : null;
  const proxies =
    rows === "proxies" || (rows === "all" && options.proxies !== undefined)
      ? await runProxies(
          { ...options.proxies, sizing: { ...options.sizing, ...options.proxies?.sizing } },
          onEvent,
          onRun.proxies,
          signal,
        )
      : null;
  const ghz = options.ghz === undefined ? null : await runGhzBench({ ghz: options.ghz }, onEvent, signal);
  const scale =
    options.scaleServers === undefined
      ? null
      : await runScenario(
          "many",
          { servers: options.scaleServers, serversPerProcess: SCALE_SERVERS_PER_PROCESS },
          onEvent,
          signal,
        );
  return { sizing, tls, proxies, ghz, scale };
}

export function formatBench(b: BenchResult): string {
  return [
    ...(b.sizing === null ? [] : [formatSizing(b.sizing)]),
    ...(b.tls === null ? [] : [formatTlsCost(b.tls)]),
    ...(b.proxies === null ? [] : [formatProxies(b.proxies)]),
    ...(b.ghz === null ? [] : [formatGhzBench(b.ghz)]),
    ...(b.scale === null ? [] : [formatScenarioReport(b.scale)]),
  ].join("\n");
}
