import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type DoctorReport, runDoctor } from "../../src/doctor/doctor.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { LAB_HEALTH_CHECK } from "../../src/lab/lab-envoy-options.js";
import { resolveLabOptions } from "../../src/lab/options.js";
import { formatHostPort } from "../../src/util/address.js";
import { waitFor } from "../../src/util/wait.js";
import { type CliRun, killSpawned, spawnCli } from "../helpers.js";

const STREAMS = 12;
/** Envoy's route resets streams at this age: far beyond this test, so the streams stay where they opened. */
const MAX_STREAM_DURATION_MS = 600_000;

const finding = (r: DoctorReport, id: string) => r.findings.find((f) => f.check === id);

describe("doctor and long-lived streams, on a real lab", () => {
  let lab: LabCluster;
  before(async () => {
    lab = await startLabCluster(
      resolveLabOptions({ servers: 3, envoy: { maxStreamDurationMs: MAX_STREAM_DURATION_MS } }),
    );
  });
  after(async () => {
    killSpawned();
    await lab?.stop();
  });

  it("max-stream-duration: the lab's route option is found, as info", async () => {
    const f = finding(await runDoctor({ admin: lab.envoy.admin }), "max-stream-duration");
    assert.equal(f?.severity, "info");
    assert.equal(f?.evidence.value, "600s");
    assert.deepEqual(f?.fix?.patch, { max_stream_duration: { max_stream_duration: "0s" } });
  });

  it("streams-pinned: streams held through Envoy, 3 → 6 servers: the new hosts are named", async () => {
    // The load tool holds the streams, as a user would: grpc-lb load --streams.
    const load = spawnCli([
      "load",
      "--target",
      lab.listenAddress,
      "--streams",
      String(STREAMS),
      "--duration",
      "120s",
      "--json",
    ]);
    try {
      await pinnedAfterScaleOut(load);
    } finally {
      // Ctrl-C ends the load early with its report: nothing lost, repeated or failed.
      load.child.kill("SIGINT");
      await load.exit;
    }
    const r = JSON.parse(load.lines.join("")) as { lost: number; duplicated: number; failedStreams: number };
    assert.equal(r.lost + r.duplicated + r.failedStreams, 0, load.lines.join(""));
  });

  /** With the streams held by `load`: no finding at 3 servers, then the 3 new hosts named at 6. */
  async function pinnedAfterScaleOut(load: CliRun): Promise<void> {
    const active = async (): Promise<Map<string, number>> =>
      new Map(
        [...((await lab.envoy.admin.hostCounters()).get("server") ?? [])].map(([h, c]) => [
          h,
          c.rq_active ?? 0,
        ]),
      );
    const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
    await waitFor(
      "every stream to be in flight at Envoy",
      async () => (total(await active()) === STREAMS ? true : undefined),
      { timeoutMs: lab.options.startTimeoutMs },
      () => load.stderr(),
    );
    // Round robin spread them 4/4/4: nothing pinned yet.
    const even = await runDoctor({ admin: lab.envoy.admin, activeRecheckMs: 200 });
    assert.equal(finding(even, "streams-pinned"), undefined, JSON.stringify(finding(even, "streams-pinned")));

    await lab.pool.add(3);
    lab.setServerRecords(lab.servers());
    const hc = LAB_HEALTH_CHECK;
    await waitFor(
      "Envoy to list 6 healthy hosts",
      async () => ((await lab.hosts()).filter((h) => h.healthy).length === 6 ? true : undefined),
      { timeoutMs: 10 * (lab.options.envoy.dnsRefreshMs + hc.intervalMs + hc.timeoutMs) + 5000 },
    );
    const report = await runDoctor({ admin: lab.envoy.admin, activeRecheckMs: 200 });
    const f = finding(report, "streams-pinned");
    assert.ok(f, `no streams-pinned; findings: ${report.findings.map((x) => x.check).join(", ")}`);
    assert.equal(f.severity, "warning");
    assert.match(f.evidence.field, /at 2 readings \d+ ms apart/);
    assert.match(f.evidence.value, new RegExp(`^${STREAMS} in flight on 6 healthy hosts`));
    const added = lab.servers().slice(3);
    for (const s of added)
      assert.ok(f.why.includes(formatHostPort(s.host, s.port)), `${s.host} not named: ${f.why}`);
    for (const s of lab.servers().slice(0, 3))
      assert.ok(
        !f.why.split(" carr")[0]?.includes(formatHostPort(s.host, s.port)),
        `${s.host} named starved`,
      );
    // Envoy's own gauges agree: the old servers carry every stream.
    const now = await active();
    for (const s of added) assert.equal(now.get(formatHostPort(s.host, s.port)), 0);
    assert.equal(total(now), STREAMS);
  }
});
