import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { SCENARIO_NAMES } from "../../src/lab/scenarios/registry.js";
import { interruptAt, isAlive, killSpawned } from "../helpers.js";

after(killSpawned);

/** Ctrl-C must end every command within this, everything it started included. */
const BOUND_MS = 1000;

/** The lab's progress markers: a phase begins when its line shows. */
const STARTING_SERVERS = /lab: server +1 /;
const STARTING_ENVOY = /lab: dns +'server' ->/;
const READY = /lab: ready/;

const phases: { args: string[]; phase: string; marker: RegExp }[] = [
  { args: ["lab", "--servers", "3", "-n", "10000000"], phase: "servers starting", marker: STARTING_SERVERS },
  { args: ["lab", "--servers", "3", "-n", "10000000"], phase: "Envoy starting", marker: STARTING_ENVOY },
  { args: ["lab", "--servers", "3", "-n", "10000000"], phase: "load running", marker: READY },
  {
    args: ["lab", "up", "--listen-port", "0", "--admin-port", "0"],
    phase: "servers starting",
    marker: STARTING_SERVERS,
  },
  {
    args: ["lab", "up", "--listen-port", "0", "--admin-port", "0"],
    phase: "Envoy starting",
    marker: STARTING_ENVOY,
  },
  {
    args: ["lab", "up", "--listen-port", "0", "--admin-port", "0"],
    phase: "serving",
    marker: /Press Ctrl-C/,
  },
  { args: ["lab", "scenario", "failover"], phase: "Envoy starting", marker: STARTING_ENVOY },
  ...SCENARIO_NAMES.map((name) => ({
    args: ["lab", "scenario", name],
    phase: "warm-up under load",
    marker: READY,
  })),
  { args: ["lab", "bench"], phase: "servers starting", marker: STARTING_SERVERS },
  { args: ["lab", "bench"], phase: "measuring", marker: READY },
  { args: ["lab", "compare", "--duration-ms", "5000"], phase: "measuring", marker: READY },
  {
    args: ["lab", "compare", "--workload", "streams", "--duration-ms", "5000"],
    phase: "holding streams",
    marker: READY,
  },
  { args: ["serve", "--port", "0", "--metrics-port", "0"], phase: "serving", marker: /"event":"ready"/ },
];

describe(`Ctrl-C stops everything and exits 130 within ${BOUND_MS} ms`, () => {
  for (const { args, phase, marker } of phases) {
    const command = args.slice(0, args[1] === "scenario" ? 3 : 2).filter((a) => !a.startsWith("-"));
    it(`grpc-lb ${command.join(" ")}: ${phase}`, async () => {
      const r = await interruptAt(args, marker);
      assert.equal(r.exit.code, 130, r.output);
      assert.ok(r.elapsedMs <= BOUND_MS, `exited ${Math.round(r.elapsedMs)} ms after SIGINT\n${r.output}`);
      // Every child was waited for before the CLI exited.
      assert.deepEqual(r.pids.filter(isAlive), [], `left running after exit (of ${r.pids.length} started)`);
    });
  }
});
