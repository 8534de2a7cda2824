import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterFrame } from "../../src/watch/interval.js";
import { pickCluster } from "../../src/watch/pick-cluster.js";
import { paint, sectionLines } from "../../src/watch/table.js";
import type { Section, ViewOptions } from "../../src/watch/view.js";
import { jsonView } from "../../src/watch/view-json.js";
import { textView } from "../../src/watch/view-text.js";
import { ttyView } from "../../src/watch/view-tty.js";
import { viewFor } from "../../src/watch/views.js";
import { recorded } from "../watch-samples.js";

/** An ANSI escape sequence (CSI): what a terminal draws with, not text. */
const ESCAPE_CODE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, "g");
const WALL = Date.parse("2026-12-06T06:13:00Z");
const choice = pickCluster(recorded("lab-load-1"), undefined);
const firstSection: Section = {
  kind: "frame",
  choice,
  frame: clusterFrame(undefined, recorded("lab-load-1"), "server", WALL),
};
const intervalSection: Section = {
  kind: "frame",
  choice,
  frame: clusterFrame(recorded("lab-load-1", 0), recorded("lab-load-2", 1000), "server", WALL + 1000),
};
const killedSection: Section = {
  kind: "frame",
  choice,
  frame: clusterFrame(recorded("lab-load-2", 0), recorded("lab-server-killed", 1000), "server", WALL + 2000),
};

/** A view's options writing into an array. */
function capture(o: Partial<ViewOptions> = {}) {
  const writes: string[] = [];
  const options: ViewOptions = {
    write: (t) => void writes.push(t),
    intervalMs: 1000,
    colour: false,
    columns: 120,
    rows: 40,
    ...o,
  };
  return { options, writes };
}
const plain = (s: Section): string[] => sectionLines(s, 1000).map((l) => paint(l, false));

describe("watch: the table", () => {
  it("shows the first reading without rates, and says when they come", () => {
    const lines = plain(firstSection);
    assert.equal(
      lines[0],
      "Envoy 127.0.0.1:9901: cluster 'server' (the one with the most hosts), 3 hosts, 06:13:00 UTC",
    );
    const rows = lines.filter((l) => l.includes("127.77.0."));
    assert.equal(rows.length, 3);
    for (const row of rows) {
      assert.match(row, /…/);
      assert.doesNotMatch(row, /\d\.\d%|0\.0\b/, "no made-up rate or share");
    }
    assert.match(
      lines.at(-1) ?? "",
      /first reading: calls\/s, shares and errors come with the next one, in 1 s/,
    );
  });

  it("shows each host's rate, share with a bar, errors and health, and the total", () => {
    const lines = plain(intervalSection);
    const row = (host: string): string => lines.find((l) => l.includes(host)) ?? "";
    assert.match(
      row("127.77.0.1:"),
      /^ {2}127\.77\.0\.1:41809\s+102\.0\s+0\s+32\.5% {2}█{6}·{14} {2}healthy {2}8 error$/,
    );
    assert.match(row("127.77.0.2:"), /106\.0\s+0\s+33\.8% {2}█{7}·{13} {2}healthy {2}—$/);
    assert.match(lines.find((l) => l.trimStart().startsWith("all")) ?? "", /all\s+314\.0\s+1$/);
  });

  it("names a killed server's health flags, its ejection and its failed connection", () => {
    const row = plain(killedSection).find((l) => l.includes("127.77.0.2:")) ?? "";
    assert.match(row, /check failed, ejected {2}2 error, 1 connect-fail$/);
  });

  it("says when an Envoy did not answer, and that it tries again", () => {
    const unread: Section = {
      kind: "unread",
      choice,
      admin: "127.0.0.1:9901",
      ts: "2026-12-06T06:13:05.000Z",
      message: "no admin API answers at http://127.0.0.1:9901: connect ECONNREFUSED 127.0.0.1:9901",
    };
    assert.match(plain(unread)[1] ?? "", /no answer at 06:13:05 UTC: .*ECONNREFUSED.*; trying again in 1 s/);
  });
});

describe("watch: views", () => {
  it("json: nothing for the first reading, then one parseable line per Envoy and interval", () => {
    const { options, writes } = capture();
    const view = jsonView(options);
    view.first([firstSection]);
    assert.equal(writes.length, 0);
    view.interval([intervalSection, killedSection]);
    assert.equal(writes.length, 2);
    const line = JSON.parse(writes[0] ?? "") as Record<string, unknown>;
    assert.deepEqual(Object.keys(line), [
      "ts",
      "admin",
      "cluster",
      "intervalMs",
      "hosts",
      "removed",
      "reset",
    ]);
    assert.equal(line.intervalMs, 1000);
    const [h1] = line.hosts as Record<string, unknown>[];
    assert.deepEqual(h1, {
      address: "127.77.0.1:41809",
      hostname: "server",
      rps: 102,
      calls: 102,
      active: 0,
      share: 0.3248,
      errors: { error: 8, timeout: 0, connectFail: 0 },
      health: "healthy",
      flags: [],
      ejected: false,
      added: false,
    });
    assert.ok(writes.every((w) => w.endsWith("\n") && !w.slice(0, -1).includes("\n")));
  });

  it("text: plain lines without escape codes, one block per reading", () => {
    const { options, writes } = capture({ colour: true });
    const view = textView(options);
    view.first([firstSection]);
    view.interval([intervalSection]);
    view.close();
    assert.equal(writes.length, 2);
    assert.ok(writes.every((w) => !w.includes("\x1b")));
  });

  it("tty: hides the cursor, redraws over the previous frame, shows the cursor again at the end", () => {
    const { options, writes } = capture({ colour: true });
    const view = ttyView(options);
    view.first([firstSection]);
    const firstLines = (writes[0]?.match(/\n/g) ?? []).length;
    view.interval([intervalSection]);
    view.close();
    assert.ok(writes[0]?.startsWith("\x1b[?25l"));
    assert.ok(writes[1]?.startsWith(`\r\x1b[${firstLines}A`), JSON.stringify(writes[1]?.slice(0, 12)));
    assert.ok(writes[1]?.endsWith("\x1b[J"));
    assert.ok(writes[1]?.includes("\x1b[32m█"), "the bars are green");
    assert.equal(writes.at(-1), "\x1b[?25h");
  });

  it("tty: no colour with NO_COLOR, lines cut at the width, frame cut at the height", () => {
    const { options, writes } = capture({ colour: false, columns: 40, rows: 5 });
    ttyView(options).first([intervalSection]);
    const lines = (writes[0] ?? "")
      .split("\n")
      .slice(0, -1)
      .map((l) => l.replace(ESCAPE_CODE, ""));
    assert.ok(!/\[3\dm/.test(writes[0] ?? ""), "no colour");
    assert.equal(lines.length, 4);
    assert.ok(
      lines.every((l) => [...l].length <= 39),
      lines.join("|"),
    );
    assert.match(lines.at(-1) ?? "", /^… \d+ more lines/);
  });

  it("picks the view: json as asked; text redrawn on a terminal, plain lines elsewhere; NO_COLOR", () => {
    assert.deepEqual(viewFor("json", { isTTY: true, env: {} }), { kind: "json", colour: false });
    assert.deepEqual(viewFor("text", { isTTY: false, env: {} }), { kind: "text", colour: false });
    assert.deepEqual(viewFor("text", { isTTY: true, env: {} }), { kind: "tty", colour: true });
    assert.deepEqual(viewFor("text", { isTTY: true, env: { NO_COLOR: "1" } }), {
      kind: "tty",
      colour: false,
    });
    assert.deepEqual(viewFor("text", { isTTY: true, env: { NO_COLOR: "" } }), { kind: "tty", colour: true });
  });
});
