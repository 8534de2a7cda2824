import { type Line, paint, sectionLines } from "./table.js";
import type { Section, ViewOptions, WatchView } from "./view.js";

const HIDE_CURSOR = "\x1b[?25l";
const SHOW_CURSOR = "\x1b[?25h";
/** Clears from the cursor to the end of the line, then of the screen. */
const CLEAR_LINE = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";

/**
 * A terminal view redrawn in place: each reading moves the cursor back to the top of the previous
 * one and writes over it, so the last reading stays on screen (and in the scrollback) after exit.
 * Lines are cut at the terminal's width and the frame at its height, since a wrapped or scrolled
 * line would put the next redraw in the wrong place.
 */
export function ttyView(o: ViewOptions): WatchView {
  let drawn = 0;
  let cursorHidden = false;
  const draw = (sections: readonly Section[]): void => {
    let lines: Line[] = sections.flatMap((s, i) => [
      ...(i > 0 ? [[["", "plain"]] as Line] : []),
      ...sectionLines(s, o.intervalMs),
    ]);
    const room = Math.max(2, o.rows - 1);
    if (lines.length > room)
      lines = [
        ...lines.slice(0, room - 1),
        [[`… ${lines.length - room + 1} more lines (a taller terminal shows them)`, "dim"]],
      ];
    const up = drawn > 0 ? `\r\x1b[${drawn}A` : "";
    o.write(
      `${cursorHidden ? "" : HIDE_CURSOR}${up}${lines.map((l) => `${paint(l, o.colour, o.columns - 1)}${CLEAR_LINE}\n`).join("")}${CLEAR_BELOW}`,
    );
    cursorHidden = true;
    drawn = lines.length;
  };
  return {
    first: draw,
    interval: draw,
    close: () => {
      if (cursorHidden) o.write(SHOW_CURSOR);
      cursorHidden = false;
    },
  };
}
