import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { echoChannel } from "../../src/grpc/channel.js";
import { type ClientTls, INSECURE } from "../../src/grpc/client-tls.js";
import { type LabCluster, startLabCluster } from "../../src/lab/cluster.js";
import { resolveLabOptions } from "../../src/lab/options.js";

function echoOnce(address: string, tls: ClientTls): Promise<number> {
  const client = echoChannel(address, { tls, ownConnection: true });
  return new Promise((resolve) =>
    client.echo({ message: "tls" }, { deadline: Date.now() + 5000 }, (err) => {
      client.close();
      resolve(err ? (err.code ?? status.UNKNOWN) : status.OK);
    }),
  );
}

describe("a lab with TLS on Envoy's listener only", () => {
  let lab: LabCluster;
  before(async () => {
    lab = await startLabCluster(resolveLabOptions({ tls: "downstream" }));
  });
  after(() => lab?.stop());

  it("takes TLS calls at the listener and speaks plaintext to the servers", async () => {
    assert.equal(await echoOnce(lab.listenAddress, lab.clientTls), status.OK);
    assert.equal(await echoOnce(lab.listenAddress, INSECURE), status.UNAVAILABLE);
    for (const s of lab.servers()) assert.equal(await echoOnce(`${s.host}:${s.port}`, INSECURE), status.OK);
    assert.equal((await lab.envoy.admin.stat("cluster.server.ssl.handshake")) ?? 0, 0);
  });
});
