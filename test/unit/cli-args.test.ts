import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { choiceFlag, intFlag, parseFlags } from "../../src/cli/args.js";
import { commands, main } from "../../src/cli/main.js";
import { UsageError } from "../../src/errors.js";
import { loopbackAddresses } from "../../src/lab/addresses.js";
import { parseHostPort } from "../../src/util/address.js";
import { captureContext } from "../helpers.js";

describe("flag parsing", () => {
  it("turns unknown options and missing values into one-line usage errors", () => {
    assert.throws(
      () => parseFlags("load", ["--nope"], {}),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.message, "grpc-lb load: unknown option --nope (see grpc-lb load --help)");
        return true;
      },
    );
    assert.throws(
      () => parseFlags("load", ["--target"], { target: { type: "string" } }),
      /--target needs a value/,
    );
  });

  it("checks integer ranges and choices", () => {
    assert.equal(intFlag("lab", "servers", "3", { min: 1, max: 64 }), 3);
    assert.equal(intFlag("lab", "servers", undefined, { min: 1, max: 64 }), undefined);
    for (const bad of ["0", "65", "2.5", "three", ""]) {
      assert.throws(
        () => intFlag("lab", "servers", bad, { min: 1, max: 64 }),
        /--servers must be an integer from 1 to 64/,
      );
    }
    assert.equal(
      choiceFlag("lab", "policy", "LEAST-REQUEST", ["round_robin", "least_request"]),
      "least_request",
    );
    assert.throws(
      () => choiceFlag("lab", "policy", "fastest", ["round_robin"]),
      /one of round_robin, got 'fastest'/,
    );
  });

  it("parses host:port, bracketed IPv6 included", () => {
    assert.deepEqual(parseHostPort("127.0.0.1:10000"), { host: "127.0.0.1", port: 10000 });
    assert.deepEqual(parseHostPort("[::1]:9"), { host: "::1", port: 9 });
    assert.deepEqual(parseHostPort("envoy:10000"), { host: "envoy", port: 10000 });
    for (const bad of ["127.0.0.1", "127.0.0.1:0", "h:70000", ":80", "::1:80"])
      assert.equal(parseHostPort(bad), undefined);
  });

  it("gives each server its own loopback address, skipping .0 and .255", () => {
    assert.deepEqual(loopbackAddresses("127.77.0.253", 4), [
      "127.77.0.253",
      "127.77.0.254",
      "127.77.1.1",
      "127.77.1.2",
    ]);
    assert.throws(() => loopbackAddresses("10.0.0.1", 1), /loopback/);
    assert.throws(() => loopbackAddresses("127.255.255.250", 10), /only 5 loopback addresses/);
  });
});

describe("cli main", () => {
  it("prints --help for every command with exit 0", async () => {
    for (const c of commands) {
      const cap = captureContext();
      assert.equal(await main([c.name, "--help"], cap.ctx), 0, c.name);
      assert.match(cap.stdout(), new RegExp(`^Usage: grpc-lb ${c.name}`));
    }
    const top = captureContext();
    assert.equal(await main(["--help"], top.ctx), 0);
    for (const c of commands) assert.match(top.stdout(), new RegExp(`\\n  ${c.name} `));
  });

  it("exits 2 with one clear line for bad usage", async () => {
    const cases: [string[], RegExp][] = [
      [[], /^Usage: grpc-lb <command>/],
      [["frobnicate"], /unknown command 'frobnicate'/],
      [["lab", "--servers", "0"], /--servers must be an integer from 1 to 64, got '0'/],
      [["lab", "--servers", "1000"], /--servers must be an integer from 1 to 64/],
      [["lab", "--policy", "fastest"], /--policy must be one of round_robin, least_request, random/],
      [["lab", "down"], /unknown subcommand 'down'/],
      [["lab", "--discovery", "nodeport"], /--discovery must be one of headless, clusterip/],
      [["lab", "up", "--requests", "5"], /lab up: unknown option --requests \(see grpc-lb lab up --help\)/],
      [["lab", "scenario", "drain", "--servers", "5"], /lab scenario: --servers is for many only, not drain/],
      [["lab", "scenario", "many", "--servers", "1001"], /--servers must be an integer from 1 to 1000/],
      [["lab", "scenario", "drain", "--envoys", "2"], /lab scenario: unknown option --envoys/],
      [["lab", "bench", "--policy", "random"], /lab bench: unknown option --policy/],
      [["load"], /--target HOST:PORT is required/],
      [["load", "--target", "nowhere"], /--target must be HOST:PORT/],
      [["load", "--target", "127.0.0.1:1", "-n", "0"], /--requests must be an integer from 1/],
      [
        ["load", "--target", "127.0.0.1:1", "--stream-kind", "exchange"],
        /--stream-kind is for long-lived streams; add --streams N/,
      ],
      [
        ["load", "--target", "127.0.0.1:1", "--streams", "2", "--stream-kind", "chat"],
        /--stream-kind must be one of subscribe, exchange/,
      ],
      [
        ["load", "--target", "127.0.0.1:1", "--streams", "2", "--stream-kind", "exchange", "--engine", "h2"],
        /--stream-kind exchange runs on --engine grpc-js/,
      ],
      [["serve", "--id", "not-a-uuid"], /--id must be a UUID/],
      [["serve", "--port=70000"], /--port must be an integer from 0 to 65535/],
      [["envoy-config", "--dns-resolver", "127.0.0.1"], /--dns-resolver must be HOST:PORT/],
    ];
    for (const [argv, message] of cases) {
      const cap = captureContext();
      assert.equal(await main(argv, cap.ctx), 2, argv.join(" "));
      assert.match(cap.stderr(), message, argv.join(" "));
      assert.equal(
        cap.stderr().trim().split("\n").length > 1,
        argv.length === 0,
        `one line for ${argv.join(" ")}`,
      );
    }
  });

  it("prints the Envoy config as YAML", async () => {
    const cap = captureContext();
    assert.equal(
      await main(["envoy-config", "--policy", "least_request", "--server-port", "6000"], cap.ctx),
      0,
    );
    assert.match(cap.stdout(), /lb_policy: LEAST_REQUEST/);
    assert.match(cap.stdout(), /port_value: 6000/);
  });
});
