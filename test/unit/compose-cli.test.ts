import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { main } from "../../src/cli/main.js";
import { composeScenarios } from "../../src/engines/compose/scenarios/registry.js";
import { COMPOSE_SCENARIO_NAMES } from "../../src/engines/compose/scenarios/scenario.js";
import { captureContext } from "../helpers.js";

// Only what is decided before any docker command runs: these need no engine.
describe("grpc-lb compose", () => {
  it("--help names every scenario and the exit codes", async () => {
    const c = captureContext();
    assert.equal(await main(["compose", "--help"], c.ctx), 0);
    for (const name of COMPOSE_SCENARIO_NAMES) assert.match(c.stdout(), new RegExp(`\\n  ${name} `));
    assert.match(c.stdout(), /130 interrupted/);
  });

  it("is listed in grpc-lb --help", async () => {
    const c = captureContext();
    assert.equal(await main(["--help"], c.ctx), 0);
    assert.match(c.stdout(), /\n {2}compose +day-two scenarios/);
  });

  for (const [argv, message] of [
    [["compose"], /name a subcommand/],
    [["compose", "scale"], /unknown subcommand 'scale'/],
    [
      ["compose", "scenario"],
      /name one of kill, stop, pause, disconnect, scale, envoy-reload, streams, cert-rotation, all/,
    ],
    [
      ["compose", "scenario", "explode"],
      /must be one of kill, stop, pause, disconnect, scale, envoy-reload, streams, cert-rotation, all, got 'explode'/,
    ],
    [["compose", "scenario", "kill", "extra"], /name one of/],
    [["compose", "scenario", "kill", "--port", "70000"], /--port must be an integer from 1 to 65535/],
    [["compose", "scenario", "kill", "--bogus"], /unknown option --bogus/],
  ] as const) {
    it(`refuses ${argv.join(" ")} with exit 2 and one line`, async () => {
      const c = captureContext();
      assert.equal(await main([...argv], c.ctx), 2);
      assert.match(c.stderr(), message);
      assert.equal(c.stderr().trim().split("\n").length, 1);
    });
  }

  it("has one scenario for every name, each with its own summary", () => {
    assert.deepEqual(Object.keys(composeScenarios).sort(), [...COMPOSE_SCENARIO_NAMES].sort());
    for (const [name, s] of Object.entries(composeScenarios)) assert.equal(s.name, name);
    assert.equal(
      new Set(Object.values(composeScenarios).map((s) => s.summary)).size,
      COMPOSE_SCENARIO_NAMES.length,
    );
  });
});
