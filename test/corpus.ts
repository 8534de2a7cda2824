import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/paths.js";

/** Where the configurations by others are kept, one directory each (see test/corpus/SOURCES.md). */
export const CORPUS_DIR = join(packageRoot, "test", "corpus");

/** One configuration of the corpus, as its source.json describes it. */
export interface CorpusEntry {
  id: string;
  dir: string;
  title: string;
  kind: "bootstrap" | "configmap" | "config_dump";
  /** The configuration's file in the entry's directory. */
  file: string;
  source: { repo: string; path: string; commit: string; license: string; url: string };
  /** What was changed, each change with why (only what this machine forces). */
  changes: string[];
  exercises: string[];
  /** For a dump: the Envoy version that printed it, when known. */
  envoyVersion?: string;
}

/** What doctor gave on an entry, as expect.json keeps it after review. */
export interface CorpusOutcome {
  exit: number;
  /** "severity check subject", in the report's order. */
  findings: string[];
  notes: string[];
}

export function corpusEntries(): CorpusEntry[] {
  if (!existsSync(CORPUS_DIR)) return [];
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CORPUS_DIR, d.name, "source.json")))
    .map((d) => {
      const dir = join(CORPUS_DIR, d.name);
      const meta = JSON.parse(readFileSync(join(dir, "source.json"), "utf8")) as Omit<
        CorpusEntry,
        "id" | "dir"
      >;
      return { ...meta, id: d.name, dir };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}
