import * as dnsPacket from "dns-packet";

/** Names and their IPv4 addresses; names are lower-case without a trailing dot. */
export type Zone = ReadonlyMap<string, readonly string[]>;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/** Largest UDP answer we send even when a client advertises more (the DNS flag day 2020 value). */
export const EDNS_UDP_LIMIT = 1232;

export type Transport = "udp" | "tcp";

export const normalizeName = (name: string): string => name.toLowerCase().replace(/\.$/, "");

/**
 * Answers one DNS query for an authoritative zone of A records. Returns the
 * encoded response, or undefined when the bytes are too broken to answer
 * (no header to echo an id from). Over UDP an answer larger than the client
 * can take (512 bytes, or its EDNS size up to 1232) is sent empty with TC set,
 * so the resolver retries over TCP and still gets every record.
 */
export function answerQuery(
  query: Buffer,
  zone: Zone,
  transport: Transport,
  ttlS: number,
): Buffer | undefined {
  if (query.length < 12) return undefined;
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    return errorResponse(query.readUInt16BE(0), 0, RCODE.FORMERR);
  }
  const rd = packet.flag_rd ? dnsPacket.RECURSION_DESIRED : 0;
  const id = packet.id ?? 0;
  if (packet.type !== "query") return undefined;
  const opcode = ((query.readUInt16BE(2) >> 11) & 0xf) as number;
  if (opcode !== 0) return errorResponse(id, rd, RCODE.NOTIMP);
  const questions = packet.questions ?? [];
  const question = questions[0];
  if (questions.length !== 1 || question === undefined) return errorResponse(id, rd, RCODE.FORMERR);

  const opt = (packet.additionals ?? []).find((a) => a.type === "OPT") as dnsPacket.OptAnswer | undefined;
  const limit =
    transport === "tcp"
      ? 65535
      : opt === undefined
        ? CLASSIC_UDP_LIMIT
        : Math.max(CLASSIC_UDP_LIMIT, Math.min(opt.udpPayloadSize, EDNS_UDP_LIMIT));

  const addresses = zone.get(normalizeName(question.name));
  const qtype: string = question.type;
  const wantsA = qtype === "A" || qtype === "ANY";
  const answers: dnsPacket.Answer[] =
    addresses === undefined || !wantsA || question.class !== "IN"
      ? []
      : addresses.map((data) => ({ type: "A", class: "IN", name: question.name, ttl: ttlS, data }));
  const response: dnsPacket.Packet = {
    type: "response",
    id,
    flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | (addresses === undefined ? RCODE.NXDOMAIN : RCODE.NOERROR),
    questions: [question],
    answers,
    additionals: opt === undefined ? [] : [ednsOpt()],
  };
  const encoded = dnsPacket.encode(response);
  if (encoded.length <= limit) return encoded;
  return dnsPacket.encode({
    ...response,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
  });
}

function ednsOpt(): dnsPacket.OptAnswer {
  return {
    type: "OPT",
    name: ".",
    udpPayloadSize: EDNS_UDP_LIMIT,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

function errorResponse(id: number, rd: number, rcode: number): Buffer {
  return dnsPacket.encode({ type: "response", id, flags: rd | rcode, questions: [], answers: [] });
}

/** What an encoded answer says, in brief. */
export interface AnswerSummary {
  /** The name asked, normalized. */
  name: string;
  /** A records in the answer section. */
  records: number;
  /** TC set: too big for this transport, the resolver should ask again over TCP. */
  truncated: boolean;
}

/**
 * Reads the header and question of an answer answerQuery made (its counts and
 * TC flag are at fixed offsets, RFC 1035 §4.1.1); undefined for one without a question.
 */
export function summarizeAnswer(reply: Buffer): AnswerSummary | undefined {
  if (reply.length < 12 || reply.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < reply.length) {
    const length = reply.readUInt8(at);
    // answerQuery writes the question first, uncompressed: a pointer here means something else.
    if (length === 0 || length >= 0xc0) break;
    labels.push(reply.toString("latin1", at + 1, at + 1 + length));
    at += 1 + length;
  }
  return {
    name: normalizeName(labels.join(".")),
    records: reply.readUInt16BE(6),
    truncated: (reply.readUInt16BE(2) & 0x0200) !== 0,
  };
}
