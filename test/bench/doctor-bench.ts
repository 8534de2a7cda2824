import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { runDoctor } from "../../src/doctor/doctor.js";
import { EnvoyAdmin } from "../../src/envoy/admin.js";
import { cliEntry, packageRoot } from "../../src/paths.js";
import { serveCapturedAdmin } from "../admin-standin.js";
import { corpusEntries } from "../corpus.js";
import { scaleDump } from "./scale-dump.js";

/**
 * How long doctor takes, as a user runs it (the CLI, from process start to exit): on the
 * corpus's largest captured dump through a stand-in admin API, and with --config on the
 * Compose bootstrap and the corpus's largest bootstrap. Prints a table; --out merges the
 * figures into a JSON file under "doctor".
 */
const { values } = parseArgs({ options: { runs: { type: "string" }, out: { type: "string" } } });
const runs = Number(values.runs ?? 5);

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
/** Runs the CLI `runs` times, one after another (this process keeps serving a stand-in meanwhile). */
async function timeCli(args: string[]): Promise<{ medianMs: number; maxMs: number; exit: number }> {
  const times: number[] = [];
  let exit = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    exit = await new Promise<number>((resolve) =>
      execFile(process.execPath, [cliEntry, "doctor", ...args], (e, _out, stderr) => {
        const code = e === null ? 0 : typeof e.code === "number" ? e.code : -1;
        if (code === 2 || code === -1) console.error(`doctor ${args.join(" ")}: ${stderr}`);
        resolve(code);
      }),
    );
    times.push(performance.now() - t0);
  }
  return { medianMs: Math.round(median(times)), maxMs: Math.round(Math.max(...times)), exit };
}

const entries = corpusEntries();
const bySize = (kind: string) =>
  entries
    .filter((e) => (kind === "config_dump" ? e.kind === kind : e.kind !== "config_dump"))
    .map((e) => ({ e, bytes: statSync(join(e.dir, e.file)).size }))
    .sort((a, b) => b.bytes - a.bytes)[0];
const rows: {
  what: string;
  bytes: number;
  clusters?: number;
  medianMs: number;
  maxMs: number;
  goalMs: number;
}[] = [];

/** A large mesh's sidecar: the size the goal is set for (2.4 MB, about 140 clusters). */
const TARGET_BYTES = 2_400_000;
const dump = bySize("config_dump");
if (dump !== undefined) {
  const real = JSON.parse(readFileSync(join(dump.e.dir, dump.e.file), "utf8")) as unknown;
  // No public dump is that large: the largest real one, its resources repeated under new names.
  const scaled = scaleDump(real, TARGET_BYTES);
  const configDump = scaled.dump;
  const clustersFile = join(dump.e.dir, "clusters.json");
  const admin = await serveCapturedAdmin({
    version: `bench/${dump.e.envoyVersion ?? "0.0.0"}/Clean/RELEASE/BoringSSL`,
    configDump,
    ...(existsSync(clustersFile)
      ? { clusters: JSON.parse(readFileSync(clustersFile, "utf8")) as unknown }
      : {}),
  });
  try {
    const report = await runDoctor({ admin: new EnvoyAdmin(admin.address) });
    const clusters = (configDump as { configs: Record<string, unknown[]>[] }).configs
      .filter((c) => String(c["@type"]).endsWith(".ClustersConfigDump"))
      .reduce((n, c) => n + (c.static_clusters?.length ?? 0) + (c.dynamic_active_clusters?.length ?? 0), 0);
    const t = await timeCli(["--admin", admin.address, "--json"]);
    rows.push({
      what: `--admin, ${dump.e.id} ×${scaled.copies}: ${clusters} clusters, ${report.clusters.length} in scope`,
      bytes: JSON.stringify(configDump, null, 2).length,
      clusters,
      ...t,
      goalMs: 2000,
    });
  } finally {
    await admin.stop();
  }
}
rows.push({
  what: "--config deploy/compose/envoy.yaml",
  bytes: statSync(join(packageRoot, "deploy/compose/envoy.yaml")).size,
  ...(await timeCli(["--config", join(packageRoot, "deploy/compose/envoy.yaml")])),
  goalMs: 5000,
});
const boot = bySize("bootstrap");
if (boot !== undefined)
  rows.push({
    what: `--config ${boot.e.id}`,
    bytes: boot.bytes,
    ...(await timeCli(["--config", join(boot.e.dir, boot.e.file)])),
    goalMs: 5000,
  });

console.log(`doctor, wall time of the CLI from start to exit, median and max of ${runs} runs`);
console.log(
  `  ${"what".padEnd(72)}${"size".padStart(10)}${"median".padStart(10)}${"max".padStart(10)}${"goal".padStart(10)}`,
);
for (const r of rows)
  console.log(
    `  ${r.what.padEnd(72)}${`${(r.bytes / 1e6).toFixed(2)} MB`.padStart(10)}${`${r.medianMs} ms`.padStart(10)}${`${r.maxMs} ms`.padStart(10)}${`< ${r.goalMs / 1000} s`.padStart(10)}`,
  );
if (values.out !== undefined) {
  const out = values.out;
  await mkdir(dirname(out), { recursive: true });
  const prior = existsSync(out) ? (JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(out, `${JSON.stringify({ ...prior, doctor: { runs, rows } }, null, 2)}\n`);
}
