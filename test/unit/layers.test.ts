import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/paths.js";

const SRC = join(packageRoot, "src");

/** Every .ts file under `dir` (relative to src/), generated types left out. */
function sources(dir: string): string[] {
  return readdirSync(join(SRC, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(SRC, join(e.parentPath, e.name)));
}

/** The areas (first folder under src/) that `file` imports by a relative path. */
function importedAreas(file: string): Set<string> {
  const text = readFileSync(join(SRC, file), "utf8");
  const areas = new Set<string>();
  for (const m of text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)) {
    const target = normalize(join(dirname(file), m[1] ?? ""));
    const area = target.split("/")[0] ?? "";
    if (!target.startsWith("..") && target.includes("/")) areas.add(area);
  }
  return areas;
}

/** Areas that must not import the ones named: a lower area never reaches up. */
const FORBIDDEN: Record<string, readonly string[]> = {
  envoy: ["loadgen", "routing", "lab", "compare", "bench", "engines", "cli"],
  grpc: ["loadgen", "envoy", "routing", "lab", "compare", "bench", "engines", "cli"],
  dns: ["loadgen", "envoy", "grpc", "lab", "compare", "bench", "engines", "cli"],
  proc: ["loadgen", "envoy", "grpc", "lab", "compare", "bench", "engines", "cli"],
  util: ["loadgen", "envoy", "grpc", "proc", "lab", "compare", "bench", "engines", "cli"],
  loadgen: ["routing", "scenarios", "lab", "compare", "bench", "engines", "cli"],
  routing: ["scenarios", "lab", "compare", "bench", "engines", "cli"],
  lab: ["compare", "bench", "engines", "cli"],
};

describe("the areas of src/ import only areas below them", () => {
  for (const [area, forbidden] of Object.entries(FORBIDDEN)) {
    it(`${area}/ imports none of ${forbidden.join(", ")}`, () => {
      const files = sources(area);
      assert.ok(files.length > 0, `src/${area}/ has no sources`);
      const wrong = files.flatMap((f) =>
        [...importedAreas(f)].filter((a) => forbidden.includes(a)).map((a) => `${f} imports ${a}/`),
      );
      assert.deepEqual(wrong, []);
    });
  }

  it("sees an import across areas (the check can fail)", () => {
    assert.ok(importedAreas("routing/wait-hosts.ts").has("loadgen"));
  });
});
