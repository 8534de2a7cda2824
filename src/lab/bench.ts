import { type GhzBench, runGhzBench } from "./bench/ghz.js";
import { formatGhzBench } from "./bench/ghz-report.js";
import { runSizing, type SizingOptions, type SizingProgress } from "./bench/sizing.js";
import { formatSizing, type SizingResult } from "./bench/sizing-report.js";
import type { LabEvent } from "./events.js";

export interface BenchOptions {
  /** The sizing table's options. Default resolveSizingOptions's. */
  sizing?: SizingOptions;
  /** A ghz binary: after the table, our load tool beside ghz on a lab of its own. Default none. */
  ghz?: string | undefined;
}

/** Everything `lab bench` printed, as one value: what `--json` and `--out` write. */
export interface BenchResult {
  sizing: SizingResult;
  ghz: GhzBench | null;
}

/**
 * What the Envoy hop costs, as a sizing table (runSizing), then, given ghz, our
 * load tool beside ghz. A benchmark: numbers only, no thresholds.
 */
export async function runBench(
  options: BenchOptions,
  onEvent: (e: LabEvent) => void,
  onRun: SizingProgress,
  signal?: AbortSignal,
): Promise<BenchResult> {
  const sizing = await runSizing(options.sizing ?? {}, onEvent, onRun, signal);
  const ghz = options.ghz === undefined ? null : await runGhzBench({ ghz: options.ghz }, onEvent, signal);
  return { sizing, ghz };
}

export function formatBench(b: BenchResult): string {
  return b.ghz === null ? formatSizing(b.sizing) : `${formatSizing(b.sizing)}\n${formatGhzBench(b.ghz)}`;
}
