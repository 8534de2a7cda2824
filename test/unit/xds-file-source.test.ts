import assert from "node:assert/strict";
import { mkdtemp, rename, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UsageError } from "../../src/errors.js";
import { waitFor } from "../../src/util/wait.js";
import { type FileSourceEvent, formatFileSourceEvent, startFileSource } from "../../src/xds/sources/file.js";
import {
  formatEndpointsFile,
  parseEndpointsFile,
  writeEndpointsFile,
} from "../../src/xds/sources/file-format.js";
import { sortEndpoints } from "../../src/xds/sources/list.js";
import type { DiscoveredEndpoint } from "../../src/xds/types.js";

const A: DiscoveredEndpoint = { address: "127.77.0.1", port: 50051, health: "HEALTHY" };
const B: DiscoveredEndpoint = { address: "127.77.0.2", port: 50051, health: "DRAINING" };
const C: DiscoveredEndpoint = { address: "::1", port: 50052, health: "HEALTHY" };

describe("the endpoints file", () => {
  it("reads endpoints, health HEALTHY when absent, IPv6 too", () => {
    const r = parseEndpointsFile(
      '{"endpoints": [{"address": "127.77.0.1", "port": 50051}, {"address": "127.77.0.2", "port": 50051, "health": "DRAINING"}, {"address": "::1", "port": 50052}]}',
    );
    assert.deepEqual(r, { ok: true, endpoints: [A, B, C] });
  });

  it("an empty list is a list (the writer says there is no server)", () => {
    assert.deepEqual(parseEndpointsFile('{"endpoints": []}'), { ok: true, endpoints: [] });
  });

  it("reads back what formatEndpointsFile writes", () => {
    assert.deepEqual(parseEndpointsFile(formatEndpointsFile([A, B, C])), { ok: true, endpoints: [A, B, C] });
  });

  for (const [text, why] of [
    ["", /^not JSON/],
    ['{"endpoints": [', /^not JSON/],
    ["[]", /^the file must be an object, got a list/],
    ["{}", /^"endpoints" must be a list, got nothing/],
    ['{"endpoints": {}}', /^"endpoints" must be a list, got \{\}/],
    ['{"endpoints": [], "version": 2}', /^the file has unknown key 'version' \(known: endpoints\)/],
    ['{"endpoints": [1]}', /^endpoints\[0\] must be an object, got 1/],
    ['{"endpoints": [{"port": 1}]}', /^endpoints\[0\]\.address must be an IP address .*, got nothing/],
    ['{"endpoints": [{"address": "server", "port": 1}]}', /^endpoints\[0\]\.address .*got "server"/],
    ['{"endpoints": [{"address": "10.0.0.1"}]}', /^endpoints\[0\]\.port must be an integer from 1 to 65535/],
    ['{"endpoints": [{"address": "10.0.0.1", "port": "50051"}]}', /\.port .*got "50051"/],
    ['{"endpoints": [{"address": "10.0.0.1", "port": 0}]}', /\.port .*got 0/],
    ['{"endpoints": [{"address": "10.0.0.1", "port": 1.5}]}', /\.port .*got 1\.5/],
    [
      '{"endpoints": [{"address": "10.0.0.1", "port": 1, "health": "healthy"}]}',
      /\.health must be HEALTHY or DRAINING, got "healthy"/,
    ],
    [
      '{"endpoints": [{"address": "10.0.0.1", "port": 1, "helth": "DRAINING"}]}',
      /^endpoints\[0\] has unknown key 'helth'/,
    ],
    [
      '{"endpoints": [{"address": "10.0.0.1", "port": 1}, {"address": "10.0.0.1", "port": 1, "health": "DRAINING"}]}',
      /^endpoints\[1\] lists 10\.0\.0\.1 port 1 again \(endpoints\[0\]\)/,
    ],
  ] as const) {
    it(`refuses ${text === "" ? "an empty file" : text}`, () => {
      const r = parseEndpointsFile(text);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.why, why);
    });
  }
});

describe("the file source", () => {
  let dir = "";
  let n = 0;
  const fresh = (): string => join(dir, `endpoints-${++n}.json`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grpc-lb-file-source-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A source on `path`, its events, and a wait for what it lists (bounded by 40 poll ticks). */
  async function follow(path: string, pollMs = 20) {
    const events: FileSourceEvent[] = [];
    const handle = await startFileSource({ path, pollMs, onEvent: (e) => events.push(e) });
    const lists = (): string => JSON.stringify(handle.source.current());
    const until = (what: string, ok: () => boolean) =>
      waitFor(what, () => (ok() ? true : undefined), { timeoutMs: pollMs * 40, intervalMs: 5 }, lists);
    return { handle, events, until };
  }

  it("refuses a missing file at the start, as a usage error", async () => {
    const path = fresh();
    await assert.rejects(startFileSource({ path }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.message, `file source: ${path} cannot be read: no such file`);
      return true;
    });
  });

  it("refuses a bad file at the start, naming the field", async () => {
    const path = fresh();
    await writeFile(path, '{"endpoints": [{"address": "10.0.0.1", "port": 70000}]}');
    await assert.rejects(
      startFileSource({ path }),
      /file source: .* is not an endpoints file: endpoints\[0\]\.port must be an integer from 1 to 65535, got 70000/,
    );
  });

  it("is synced once started, and follows a write-then-rename (the poll, not a direct check)", async () => {
    const path = fresh();
    await writeEndpointsFile(path, [A]);
    const { handle, events, until } = await follow(path);
    try {
      assert.deepEqual(handle.source.current(), [A]);
      let notified = 0;
      handle.source.watch(() => notified++);
      await writeEndpointsFile(path, [B, A]);
      await until("the source to list A and B", () => handle.source.current()?.length === 2);
      assert.deepEqual(handle.source.current(), [A, B]);
      assert.equal(notified, 1);
      assert.deepEqual(
        events.map((e) => formatFileSourceEvent(e)),
        [
          `file source: read ${path}: 1 endpoint(s); following it`,
          `file source: ${path} changed: 2 endpoint(s), 1 DRAINING`,
        ],
      );
    } finally {
      handle.stop();
    }
  });

  it("keeps the last good list through a bad update and a removed file, once each in the log; takes the next good one", async () => {
    const path = fresh();
    await writeEndpointsFile(path, [A, B]);
    const { handle, events, until } = await follow(path);
    try {
      await writeFile(`${path}.new`, '{"endpoints": [{"address": "10.0.0.1", "port": 1, "health": "SICK"}]}');
      await rename(`${path}.new`, path);
      await until("the bad update to be refused", () => events.some((e) => e.kind === "rejected"));
      await handle.check();
      await handle.check();
      await unlink(path);
      await until(
        "the removal to be refused",
        () => events.filter((e) => e.kind === "rejected").length === 2,
      );
      await handle.check();
      assert.deepEqual(handle.source.current(), [A, B]);
      assert.deepEqual(
        events.slice(1).map((e) => formatFileSourceEvent(e)),
        [
          `file source: ${path} is not an endpoints file: endpoints[0].health must be HEALTHY or DRAINING, got "SICK"; keeping the last good list (2 endpoint(s))`,
          `file source: ${path} cannot be read: no such file; keeping the last good list (2 endpoint(s))`,
        ],
      );
      await writeEndpointsFile(path, [A, B]);
      await until("the file to be valid again", () => events.some((e) => e.kind === "valid-again"));
      await writeEndpointsFile(path, [C]);
      await until("the source to list C", () => handle.source.current()?.[0]?.address === "::1");
      assert.deepEqual(handle.source.current(), [C]);
    } finally {
      handle.stop();
    }
  });

  it("takes a file rewritten in place once it is whole (a torn write is refused, then read again)", async () => {
    const path = fresh();
    await writeEndpointsFile(path, [A]);
    const { handle, events } = await follow(path, 60_000); // no tick: every look is a check() here
    try {
      const whole = formatEndpointsFile([A, C]);
      await writeFile(path, whole.slice(0, whole.length / 2));
      await handle.check();
      assert.equal(events.at(-1)?.kind, "rejected");
      assert.deepEqual(handle.source.current(), [A]);
      await writeFile(path, whole);
      await handle.check();
      assert.deepEqual(handle.source.current(), sortEndpoints([A, C]));
      assert.equal(events.at(-1)?.kind, "changed");
    } finally {
      handle.stop();
    }
  });

  it("says nothing when the file is replaced by the same list", async () => {
    const path = fresh();
    await writeEndpointsFile(path, [A, B]);
    const { handle, events } = await follow(path, 60_000);
    try {
      let notified = 0;
      handle.source.watch(() => notified++);
      await writeEndpointsFile(path, [B, A]);
      await handle.check();
      assert.equal(notified, 0);
      assert.deepEqual(
        events.map((e) => e.kind),
        ["listed"],
      );
    } finally {
      handle.stop();
    }
  });
});
