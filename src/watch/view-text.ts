import { paint, sectionLines } from "./table.js";
import type { Section, ViewOptions, WatchView } from "./view.js";

/** Plain lines for a pipe or a log: each reading a block of every Envoy's table, one blank line apart. */
export function textView(o: ViewOptions): WatchView {
  const block = (sections: readonly Section[]): void =>
    o.write(
      `${sections
        .flatMap((s) => sectionLines(s, o.intervalMs))
        .map((l) => paint(l, false))
        .join("\n")}\n\n`,
    );
  return { first: block, interval: block, close: () => {} };
}
