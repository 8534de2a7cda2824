import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type DoctorReport, exitFor, runDoctor } from "../../src/doctor/doctor.js";
import { checkConfigFile } from "../../src/doctor/offline/throwaway.js";
import { EnvoyAdmin } from "../../src/envoy/admin.js";
import { findEnvoy } from "../../src/envoy/binary.js";
import { serveCapturedAdmin } from "../admin-standin.js";
import { type CorpusEntry, type CorpusOutcome, corpusEntries } from "../corpus.js";

// GRPC_LB_CORPUS_UPDATE=1 writes each entry's expect.json from what doctor gives now, for review
// (git diff) instead of asserting it.
const update = process.env.GRPC_LB_CORPUS_UPDATE === "1";
const envoyBinary = findEnvoy().path;
const entries = corpusEntries();

/** Doctor on one entry: a bootstrap or ConfigMap in a throwaway Envoy, a dump through a stand-in admin API. */
async function doctorOn(e: CorpusEntry): Promise<DoctorReport> {
  const file = join(e.dir, e.file);
  if (e.kind !== "config_dump") return checkConfigFile({ path: file, envoyBinary });
  const clustersFile = join(e.dir, "clusters.json");
  const admin = await serveCapturedAdmin({
    version: `corpus/${e.envoyVersion ?? "0.0.0"}/Clean/RELEASE/BoringSSL`,
    configDump: JSON.parse(readFileSync(file, "utf8")),
    ...(existsSync(clustersFile) ? { clusters: JSON.parse(readFileSync(clustersFile, "utf8")) } : {}),
  });
  try {
    return await runDoctor({ admin: new EnvoyAdmin(admin.address) });
  } finally {
    await admin.stop();
  }
}

const outcomeOf = (r: DoctorReport): CorpusOutcome => ({
  exit: exitFor(r, "error"),
  findings: r.findings.map((f) => `${f.severity} ${f.check} ${f.subject}`),
  notes: r.notes,
});

const updated: string[] = [];
after(() => {
  if (update) console.log(`# wrote expect.json for ${updated.length} entries: review them with git diff`);
});

describe("doctor on configurations others wrote: each gives its reviewed findings, none is refused", () => {
  it("has entries to check", () => assert.ok(entries.length > 0, "test/corpus is empty"));
  for (const e of entries)
    it(`${e.id} (${e.kind}, ${e.source.repo})`, async () => {
      const report = await doctorOn(e);
      const got = outcomeOf(report);
      const expectFile = join(e.dir, "expect.json");
      if (update) {
        writeFileSync(expectFile, `${JSON.stringify(got, null, 2)}\n`);
        updated.push(e.id);
        return;
      }
      assert.ok(existsSync(expectFile), `${e.id} has no expect.json (GRPC_LB_CORPUS_UPDATE=1 writes it)`);
      const want = JSON.parse(readFileSync(expectFile, "utf8")) as CorpusOutcome;
      assert.deepEqual(got, want);
    });
});
