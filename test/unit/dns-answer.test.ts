import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as dnsPacket from "dns-packet";
import { answerQuery, CLASSIC_UDP_LIMIT, RCODE, summarizeAnswer } from "../../src/dns/answer.js";

const addrs = (n: number) =>
  Array.from({ length: n }, (_, i) => `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}`);
const zone = (n: number) => new Map([["server", addrs(n)]]);

function query(name: string, type: "A" | "AAAA" | "MX" = "A", edns?: number): Buffer {
  return dnsPacket.encode({
    type: "query",
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
    additionals:
      edns === undefined
        ? []
        : [
            {
              type: "OPT",
              name: ".",
              udpPayloadSize: edns,
              extendedRcode: 0,
              ednsVersion: 0,
              flags: 0,
              flag_do: false,
              options: [],
            },
          ],
  });
}

const RCODE_NAMES = Object.fromEntries(Object.entries(RCODE).map(([k, v]) => [v, k]));

function ask(q: Buffer, n: number, transport: "udp" | "tcp" = "udp") {
  const raw = answerQuery(q, zone(n), transport, 7);
  assert.ok(raw, "expected an answer");
  const decoded = dnsPacket.decode(raw);
  const packet = {
    ...decoded,
    rcode: RCODE_NAMES[raw.readUInt16BE(2) & 0xf],
    answers: decoded.answers as dnsPacket.StringAnswer[] | undefined,
  };
  return { raw, packet };
}

describe("DNS answers", () => {
  it("answers A with one record per server, authoritatively, echoing id and RD", () => {
    const { packet } = ask(query("server"), 3);
    assert.equal(packet.id, 4242);
    assert.equal(packet.rcode, "NOERROR");
    assert.equal(packet.flag_aa, true);
    assert.equal(packet.flag_rd, true);
    assert.deepEqual(
      packet.answers?.map((a) => [a.type, a.name, a.data, a.ttl]),
      addrs(3).map((a) => ["A", "server", a, 7]),
    );
  });

  it("matches names without case or trailing dot", () => {
    assert.equal(ask(query("SERVER."), 2).packet.answers?.length, 2);
  });

  it("says NXDOMAIN for unknown names and NODATA for other types of known ones", () => {
    assert.equal(ask(query("elsewhere"), 3).packet.rcode, "NXDOMAIN");
    const aaaa = ask(query("server", "AAAA"), 3).packet;
    assert.equal(aaaa.rcode, "NOERROR");
    assert.equal(aaaa.answers?.length, 0);
  });

  it("answers a known name with no servers with no records, not NXDOMAIN", () => {
    const { packet } = ask(query("server"), 0);
    assert.equal(packet.rcode, "NOERROR");
    assert.equal(packet.answers?.length, 0);
  });

  it("truncates over UDP past 512 bytes so the resolver retries over TCP", () => {
    const udp = ask(query("server"), 100);
    assert.ok(udp.raw.length <= CLASSIC_UDP_LIMIT);
    assert.equal(udp.packet.flag_tc, true);
    assert.equal(udp.packet.answers?.length, 0);
    const tcp = ask(query("server"), 100, "tcp");
    assert.equal(tcp.packet.flag_tc, false);
    assert.equal(tcp.packet.answers?.length, 100);
  });

  it("uses the EDNS size a client advertises, up to 1232 bytes", () => {
    const small = ask(query("server", "A"), 50);
    assert.equal(small.packet.flag_tc, true);
    const edns = ask(query("server", "A", 4096), 50);
    assert.equal(edns.packet.flag_tc, false);
    assert.equal(edns.packet.answers?.length, 50);
    assert.ok(edns.raw.length > CLASSIC_UDP_LIMIT && edns.raw.length <= 1232);
    assert.equal(ask(query("server", "A", 4096), 100).packet.flag_tc, true);
  });

  it("answers garbage after a header with FORMERR and ignores what has no header", () => {
    const garbage = Buffer.concat([
      Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x05]),
      Buffer.alloc(10, 0xff),
    ]);
    const raw = answerQuery(garbage, zone(3), "udp", 1);
    assert.ok(raw);
    assert.equal(raw.readUInt16BE(0), 0x1234);
    assert.equal(raw.readUInt16BE(2) & 0xf, RCODE.FORMERR);
    assert.equal(answerQuery(Buffer.from([1, 2, 3]), zone(3), "udp", 1), undefined);
  });

  it("ignores responses and refuses opcodes other than QUERY", () => {
    const response = dnsPacket.encode({
      type: "response",
      id: 1,
      questions: [{ type: "A", name: "server" }],
    });
    assert.equal(answerQuery(response, zone(3), "udp", 1), undefined);
    const notify = Buffer.from(query("server"));
    notify.writeUInt16BE(notify.readUInt16BE(2) | (4 << 11), 2);
    const raw = answerQuery(notify, zone(3), "udp", 1);
    assert.equal((raw?.readUInt16BE(2) ?? 0) & 0xf, RCODE.NOTIMP);
  });
});

describe("DNS answer summaries", () => {
  const query = dnsPacket.encode({
    type: "query",
    id: 7,
    questions: [{ type: "A", name: "Server.", class: "IN" }],
  });
  const addresses = Array.from({ length: 1000 }, (_, i) => `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const zone = new Map([["server", addresses]]);

  it("reads the name, the record count and TC from an answer", () => {
    const tcp = answerQuery(query, zone, "tcp", 1);
    const udp = answerQuery(query, zone, "udp", 1);
    assert.ok(tcp && udp);
    assert.deepEqual(summarizeAnswer(tcp), { name: "server", records: 1000, truncated: false });
    assert.deepEqual(summarizeAnswer(udp), { name: "server", records: 0, truncated: true });
  });
});
