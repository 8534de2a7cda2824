import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { xdsTargetOf } from "../../src/cli/xds-flags.js";
import { echoChannel } from "../../src/grpc/channel.js";
import { xdsBootstrap } from "../../src/grpc/xds-channel.js";
import { chooseEngine } from "../../src/loadgen/engine-choice.js";

type Flags = { xdsServer: string | undefined; dnsServer: string | undefined; lb: string | undefined };
const none: Flags = { xdsServer: undefined, dnsServer: undefined, lb: undefined };

describe("proxyless gRPC: xds:/// targets", () => {
  it("an xds:///NAME target takes --xds-server HOST:PORT, and nothing of DNS targets", () => {
    assert.equal(
      xdsTargetOf("load", "xds:///server", { ...none, xdsServer: "127.0.0.1:18000" }),
      "127.0.0.1:18000",
    );
    assert.equal(xdsTargetOf("load", "127.0.0.1:10000", none), undefined);
    const refused: [string, Partial<Flags>, RegExp][] = [
      ["xds:///server", {}, /xds:\/\/\/server needs --xds-server HOST:PORT/],
      ["127.0.0.1:10000", { xdsServer: "127.0.0.1:1" }, /--xds-server needs an xds:\/\/\/NAME target/],
      ["xds:///server", { xdsServer: "127.0.0.1:1", lb: "round_robin" }, /--dns-server and --lb are for dns/],
      ["xds://authority/server", { xdsServer: "127.0.0.1:1" }, /an xDS target is xds:\/\/\/NAME/],
      ["xds:///server", { xdsServer: "nowhere" }, /--xds-server must be HOST:PORT/],
    ];
    for (const [target, flags, message] of refused)
      assert.throws(() => xdsTargetOf("load", target, { ...none, ...flags }), message, target);
  });

  it("runs on grpc-js: the h2 engine speaks to one address only", () => {
    assert.equal(chooseEngine(undefined, "xds:///server"), "grpc-js");
    assert.throws(() => chooseEngine("h2", "xds:///server"), /use --engine grpc-js/);
  });

  it("the bootstrap names the xDS server, plaintext, ignore_resource_deletion and a locality", () => {
    const b = xdsBootstrap("127.0.0.1:18000", "a-node");
    assert.deepEqual(b.xds_servers, [
      {
        server_uri: "127.0.0.1:18000",
        channel_creds: [{ type: "insecure" }],
        server_features: ["xds_v3", "ignore_resource_deletion"],
      },
    ]);
    assert.equal(b.node.id, "a-node");
    assert.ok(b.node.locality, "grpc-js-xds refuses a node without a locality");
    assert.match(xdsBootstrap("h:1").node.id, new RegExp(`^grpc-lb-proxyless-${process.pid}$`));
  });

  it("a channel to an xds: target without an xDS server is refused, naming the flag", () => {
    assert.throws(() => echoChannel("xds:///server"), /--xds-server HOST:PORT/);
  });
});
