import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { corpusEntries } from "../corpus.js";

/** Licenses that allow keeping a copy of a file with its notice. */
const ALLOWED = ["Apache-2.0", "MIT", "BSD-2-Clause", "BSD-3-Clause", "CC-BY-4.0", "ISC", "MPL-2.0"];
const entries = corpusEntries();
/** The `source.repo` of a capture of this project's own output, kept beside the others' as a baseline. */
const THIS_PROJECT = "this project";

describe("the corpus of configurations others wrote: kept with provenance", () => {
  it("holds at least 20 configurations from at least 10 sources", () => {
    assert.ok(entries.length >= 20, `${entries.length} entries`);
    const repos = new Set(entries.map((e) => e.source.repo).filter((r) => r !== THIS_PROJECT));
    assert.ok(repos.size >= 10, `${repos.size} sources: ${[...repos].join(", ")}`);
  });

  it("has Envoy's own grpc-bridge example and an Istio sidecar's dump", () => {
    assert.ok(
      entries.some((e) => e.source.repo === "envoyproxy/examples" && e.source.path.includes("grpc-bridge")),
    );
    assert.ok(entries.some((e) => e.source.repo === "istio/istio" && e.kind === "config_dump"));
  });

  for (const e of entries)
    it(`${e.id}: repository, path, commit, license, the file and its reviewed findings`, () => {
      if (e.source.repo !== THIS_PROJECT) assert.match(e.source.repo, /^[\w.-]+\/[\w.-]+$/);
      assert.match(e.source.commit, /^[0-9a-f]{40}$/);
      assert.ok(ALLOWED.includes(e.source.license), `license ${e.source.license}`);
      assert.ok(e.source.url.includes(e.source.commit), "the URL names the commit");
      assert.ok(["bootstrap", "configmap", "config_dump"].includes(e.kind));
      assert.ok(existsSync(join(e.dir, e.file)), `${e.file} exists`);
      assert.ok(Array.isArray(e.changes));
      assert.ok(existsSync(join(e.dir, "expect.json")), "expect.json exists");
    });
});
