import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { packageRoot } from "../src/paths.js";

/** A Markdown page of the docs, by its path from the repository root (README.md, docs/load.md, …). */
export interface DocPage {
  path: string;
  text: string;
}

/** README.md, README.zh-TW.md and every .md file under docs/, sorted by path. */
export function docPages(): DocPage[] {
  const paths = ["README.md", "README.zh-TW.md", ...markdownUnder(join(packageRoot, "docs"))];
  return paths.sort().map((path) => ({ path, text: readFileSync(join(packageRoot, path), "utf8") }));
}

function markdownUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".md"))
    .map((e) => relative(packageRoot, join(e.parentPath, e.name)));
}

/** The Chinese page kept in step with an English one: README.md ↔ README.zh-TW.md, docs/X.md ↔ docs/zh-TW/X.md. */
export function chinesePathOf(englishPath: string): string {
  return englishPath === "README.md" ? "README.zh-TW.md" : englishPath.replace(/^docs\//, "docs/zh-TW/");
}

export const isChinese = (path: string): boolean =>
  path === "README.zh-TW.md" || path.startsWith("docs/zh-TW/");

/** Fenced code blocks, fences included, in document order. */
export function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n]*\n[\s\S]*?^```$/gm)].map((m) => m[0]);
}

/** The text outside fenced code blocks (each block replaced by an empty line). */
export function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
}

/** Inline code spans (single backticks) outside code blocks, without the backticks. */
export function inlineCode(markdown: string): string[] {
  return [...prose(markdown).matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? "");
}

/** Headings outside code blocks, with their level (1 for `#`). */
export function headings(markdown: string): { level: number; text: string }[] {
  return prose(markdown)
    .split("\n")
    .flatMap((line) => {
      const m = /^(#{1,6}) (.+)$/.exec(line);
      return m ? [{ level: m[1]?.length ?? 0, text: (m[2] ?? "").trim() }] : [];
    });
}

/**
 * A heading's anchor as GitHub makes it: the rendered text (code and link
 * markup dropped) in lower case, punctuation and symbols removed, spaces as
 * hyphens. Letters of any script stay, so a Chinese heading keeps its
 * characters and loses its full-width punctuation.
 */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replaceAll("`", "")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replaceAll(" ", "-");
}

/** Every anchor a page has: its headings' slugs, a repeated one suffixed -1, -2, … as GitHub does. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(markdown)) {
    const base = slug(h.text);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Link targets outside code (inline links and images), in document order. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]+`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? "");
}

/** Every distinct `make <target>` mentioned anywhere, in order of first mention. */
export function makeMentions(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\bmake ([a-z0-9][\w-]*)/g)].map((m) => m[1] ?? "");
  return [...new Set(targets)].filter((t) => t !== "");
}

/** The lines of code blocks and the inline code spans: where commands are written. */
export function codeTexts(markdown: string): string[] {
  const lines = codeBlocks(markdown).flatMap((block) => block.split("\n").slice(1, -1));
  return [...lines, ...inlineCode(markdown)];
}

/**
 * The make targets a command line runs: `make a b VAR=x` gives a and b; a
 * comment, a pipe or a `;` ends the command.
 */
export function makeTargetsRun(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/(?:^|[\s(;&|$])make\s+([^#;|&)\n]*)/g)) {
    for (const token of (m[1] ?? "").trim().split(/\s+/)) {
      if (token.includes("=") || token.startsWith("-")) continue;
      if (!/^[a-z0-9][\w-]*$/.test(token)) break;
      out.push(token);
    }
  }
  return out;
}
