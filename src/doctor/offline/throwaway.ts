import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { startDnsServer } from "../../dns/server.js";
import { EnvoyAdmin } from "../../envoy/admin.js";
import { DoctorError } from "../../errors.js";
import { describeExit, startChild } from "../../proc/child.js";
import { Disposers } from "../../util/disposers.js";
import { WaitTimeoutError, waitFor } from "../../util/wait.js";
import { checkView, type DoctorReport } from "../doctor.js";
import { buildView, readAdmin } from "../envoy-view.js";
import { listOf } from "../list-of.js";
import { hostsFromClusters } from "../view/clusters.js";
import { readBootstrapFile } from "./config-file.js";
import { restoreDump } from "./restore.js";
import { sanitize } from "./sanitize.js";

export interface ConfigCheckOptions {
  /** The bootstrap file: YAML, JSON, or a Kubernetes ConfigMap holding one. */
  path: string;
  /** The ConfigMap key holding the bootstrap, when several do. Default: the one that does. */
  key?: string | undefined;
  /** Only this cluster. Default: every cluster routes send gRPC to. */
  cluster?: string | undefined;
  /** The Envoy binary to start. */
  envoyBinary: string;
  /** How long Envoy may take to write its admin address, in ms. Default 15000. */
  startTimeoutMs?: number;
  /** How long to wait for Envoy to finish initializing (DNS answered, clusters warmed), in ms. Default 5000. */
  initTimeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** The line of Envoy's log that says why it refused a configuration. */
function refusal(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  const line =
    lines.find((l) =>
      /error initializing config|exiting|Unable to parse|Proto constraint validation/i.test(l),
    ) ??
    lines.at(-1) ??
    "";
  return line.replace(/^\[[^\]]*\]\[[^\]]*\]\[[^\]]*\](\s*\[[^\]]*\])?\s*/, "").trim();
}

/**
 * `doctor --config`: starts the bootstrap in a throwaway Envoy on loopback (listeners and admin
 * on free ports, names resolved by a DNS server of its own that knows none, nothing sent off this
 * machine), reads its /config_dump and /clusters, runs every check that needs no live call, and
 * stops it. A DoctorError carrying Envoy's own message when Envoy refuses the configuration.
 */
export async function checkConfigFile(o: ConfigCheckOptions): Promise<DoctorReport> {
  const file = await readBootstrapFile(o.path, o.key);
  const d = new Disposers();
  try {
    const workDir = d.use(await mkdtemp(join(tmpdir(), "grpc-lb-doctor-")), (dir) =>
      rm(dir, { recursive: true, force: true }),
    );
    const dns = d.use(await startDnsServer(), (s) => s.stop());
    const s = sanitize(file.bootstrap, dns, workDir);
    const configPath = join(workDir, "envoy.json");
    const adminPath = join(workDir, "admin-address");
    await writeFile(configPath, JSON.stringify(s.bootstrap));
    const child = d.use(
      startChild({
        name: "envoy (doctor --config)",
        command: o.envoyBinary,
        args: [
          "-c",
          configPath,
          "--admin-address-path",
          adminPath,
          "--disable-hot-restart",
          "--concurrency",
          "1",
          "--log-level",
          "error",
        ],
        // Paths in the file (certificates, LDS/CDS files) are taken from the file's directory.
        cwd: dirname(resolve(o.path)),
        // Access logs to /dev/stdout work only on a file or pipe, not on the socket a read stream is.
        logFile: join(workDir, "envoy.log"),
      }),
      (c) => c.stop(2000),
    );
    const wait = { intervalMs: 20, ...(o.signal ? { signal: o.signal } : {}) };
    const adminAddress = await waitFor(
      "Envoy to write its admin address",
      async () => {
        const state = child.state();
        if (state.t === "exited")
          throw new DoctorError(
            `Envoy refused ${file.label} (${describeExit(state.exit)}): ${refusal(child.stderrTail()) || "no message"}`,
          );
        const text = (await readFile(adminPath, "utf8").catch(() => "")).trim();
        return text === "" ? undefined : text;
      },
      { ...wait, timeoutMs: o.startTimeoutMs ?? 15_000 },
    );
    const admin = new EnvoyAdmin(adminAddress);
    const notes: string[] = [];
    const initMs = o.initTimeoutMs ?? 5000;
    await waitFor(
      "Envoy to initialize",
      async () => ((await admin.live().catch(() => false)) ? true : undefined),
      {
        ...wait,
        timeoutMs: initMs,
      },
    ).catch((e: unknown) => {
      if (!(e instanceof WaitTimeoutError)) throw e;
      notes.push(`Envoy was still initializing after ${initMs / 1000} s; what it had loaded was checked`);
    });
    const docs = await readAdmin(admin);
    restoreDump(docs.configDump, file.bootstrap, s);
    // Hosts here are not those of where the file is deployed: the view gets none, and the names
    // that found none here are said as such.
    const here = hostsFromClusters(docs.clusters);
    const view = buildView(docs.version, docs.configDump, {}, { stats: [] }, docs.certs);
    const unresolved = [...view.clusters.values()]
      .filter((c) => c.dns !== undefined && (here.get(c.name) ?? []).length === 0)
      .map((c) => `${c.name} (${c.dns?.names.join(", ")})`);
    const report: DoctorReport = { ...checkView(view, "", o.cluster, "offline"), config: file.label };
    report.notes.push(
      "checked offline in a throwaway Envoy: hosts and health are not judged (they are those of where the file is deployed)",
    );
    if (unresolved.length > 0)
      report.notes.push(`names that do not resolve here, as expected offline: ${listOf(unresolved)}`);
    if (s.xdsSources.length > 0)
      report.notes.push(
        `${s.xdsSources.length} config source(s) name a control plane (${listOf(s.xdsSources)}): what it would send is not in the file; run doctor --admin on a running Envoy to check it`,
      );
    report.notes.push(...notes);
    return report;
  } finally {
    await d.dispose();
  }
}
