import type { HaproxyConfig, HaproxyLine } from "./types.js";

// An argument with a space or a quote would be split by HAProxy's parser: quote it.
const arg = (a: string | number): string => {
  const s = String(a);
  return /[\s"'#\\]/.test(s) || s === "" ? `"${s.replace(/["\\]/g, "\\$&")}"` : s;
};

const renderLine = (l: HaproxyLine): string[] => [
  ...(l.why === undefined ? [] : [`  # ${l.why}`]),
  `  ${[l.keyword, ...l.args].map(arg).join(" ")}`,
];

/** Serializes a HAProxy configuration: the only place it becomes text. */
export function renderHaproxyConfig(config: HaproxyConfig, header?: string): string {
  const head = header === undefined ? [] : [header.replace(/^/gm, "# "), ""];
  const body = config.sections.flatMap((s) => [
    s.name === undefined ? s.kind : `${s.kind} ${s.name}`,
    ...s.lines.flatMap(renderLine),
    "",
  ]);
  return [...head, ...body].join("\n");
}
