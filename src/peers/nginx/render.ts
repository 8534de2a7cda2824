import type { NginxConfig, NginxDirective } from "./types.js";

// nginx splits arguments on whitespace and ends them at ; { } — quote any that hold one.
const arg = (a: string | number): string => {
  const s = String(a);
  return /[\s;{}"'#\\$]/.test(s) || s === "" ? `"${s.replace(/["\\]/g, "\\$&")}"` : s;
};

function renderDirective(d: NginxDirective, depth: number): string[] {
  const pad = "  ".repeat(depth);
  const head = [d.name, ...d.args].map(arg).join(" ");
  const why = d.why === undefined ? [] : [`${pad}# ${d.why}`];
  if (d.block === undefined) return [...why, `${pad}${head};`];
  return [...why, `${pad}${head} {`, ...d.block.flatMap((c) => renderDirective(c, depth + 1)), `${pad}}`];
}

/** Serializes an nginx configuration: the only place it becomes text. */
export function renderNginxConfig(config: NginxConfig, header?: string): string {
  const head = header === undefined ? [] : [header.replace(/^/gm, "# "), ""];
  return `${[...head, ...config.directives.flatMap((d) => renderDirective(d, 0))].join("\n")}\n`;
}
