import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { after, before, describe, it } from "node:test";
import { type DnsServerHandle, startDnsServer } from "../../src/dns/server.js";

// Node's resolver is c-ares, the same library Envoy resolves with: a real client
// over real UDP and TCP sockets.
function resolverFor(dns: DnsServerHandle): Resolver {
  const r = new Resolver({ timeout: 2000, tries: 1 });
  r.setServers([`${dns.host}:${dns.port}`]);
  return r;
}

describe("the lab's DNS server over UDP and TCP", () => {
  let dns: DnsServerHandle;
  before(async () => {
    dns = await startDnsServer({ records: { server: ["127.77.0.1", "127.77.0.2", "127.77.0.3"] } });
  });
  after(() => dns.stop());

  it("answers every A record of 'server' to c-ares", async () => {
    const got = await resolverFor(dns).resolve4("server");
    assert.deepEqual([...got].sort(), ["127.77.0.1", "127.77.0.2", "127.77.0.3"]);
  });

  it("follows record changes and says ENOTFOUND for unknown names", async () => {
    dns.setRecords("server", ["127.77.0.9"]);
    assert.deepEqual(await resolverFor(dns).resolve4("server"), ["127.77.0.9"]);
    await assert.rejects(resolverFor(dns).resolve4("nobody"), { code: "ENOTFOUND" });
    dns.deleteRecords("server");
    await assert.rejects(resolverFor(dns).resolve4("server"), { code: "ENOTFOUND" });
  });

  it("serves an answer too big for UDP over TCP after truncating", async () => {
    const many = Array.from({ length: 100 }, (_, i) => `127.78.0.${i + 1}`);
    dns.setRecords("server", many);
    const before = dns.queries();
    const got = await resolverFor(dns).resolve4("server");
    assert.equal(got.length, 100);
    assert.deepEqual([...got].sort(), [...many].sort());
    assert.ok(dns.queries().tcp > before.tcp, "the full answer came over TCP");
  });

  it("binds UDP and TCP on the same port", async () => {
    const other = await startDnsServer({ port: dns.port }).then(
      () => "bound",
      (e: Error) => e.message,
    );
    assert.match(other, new RegExp(`cannot bind 127\\.0\\.0\\.1:${dns.port}`));
  });
});
