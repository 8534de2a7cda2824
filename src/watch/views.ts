import type { ViewKind, ViewOptions, WatchView } from "./view.js";
import { jsonView } from "./view-json.js";
import { textView } from "./view-text.js";
import { ttyView } from "./view-tty.js";

/** Every view by kind: a new kind without its view is a compile error. */
export const VIEWS: Record<ViewKind, (o: ViewOptions) => WatchView> = {
  tty: ttyView,
  text: textView,
  json: jsonView,
};

/**
 * The view for --format on this output: the text format redraws in place on a terminal and
 * prints plain lines elsewhere; colours unless NO_COLOR is set (https://no-color.org).
 */
export function viewFor(
  format: "text" | "json",
  out: { isTTY: boolean; env: Readonly<Record<string, string | undefined>> },
): { kind: ViewKind; colour: boolean } {
  if (format === "json") return { kind: "json", colour: false };
  if (!out.isTTY) return { kind: "text", colour: false };
  return { kind: "tty", colour: (out.env.NO_COLOR ?? "") === "" && out.env.TERM !== "dumb" };
}
