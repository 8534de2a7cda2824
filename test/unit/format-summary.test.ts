import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatReportHtml } from "../../src/loadgen/format-html.js";
import { countHistogram, summarizeBackends } from "../../src/loadgen/format-summary.js";
import { formatReportText } from "../../src/loadgen/format-text.js";
import { LoadRecorder } from "../../src/loadgen/recorder.js";
import type { LoadReport } from "../../src/loadgen/report.js";

const meta = { target: "127.0.0.1:10000", concurrency: 4, durationMs: 1000 };

/** A report of `backends` backends; backend i answered counts(i) calls. */
function reportOf(backends: number, counts: (i: number) => number): LoadReport {
  const r = new LoadRecorder();
  for (let i = 0; i < backends; i++) {
    const id = `server-${String(i).padStart(4, "0")}`;
    for (let k = 0; k < counts(i); k++)
      r.recordOk(id, `127.77.${Math.floor(i / 250)}.${(i % 250) + 1}:1`, 1000);
  }
  return r.report(meta);
}

const barRows = (text: string): string[] => text.split("\n").filter((l) => /^ {2}server-\d+ /.test(l));

describe("count histograms", () => {
  it("puts equal counts in one bin", () => {
    assert.deepEqual(countHistogram([10, 10, 10]), [{ from: 10, to: 10, backends: 3 }]);
  });

  it("spreads counts over at most 10 bins of equal width, empty bins kept", () => {
    const bins = countHistogram([1, 2, 2, 50, 100]);
    assert.equal(bins.length, 10);
    assert.deepEqual(bins[0], { from: 1, to: 10, backends: 3 });
    assert.deepEqual(bins[4], { from: 41, to: 50, backends: 1 });
    assert.equal(bins[5]?.backends, 0);
    assert.deepEqual(bins[9], { from: 91, to: 100, backends: 1 });
    assert.equal(
      bins.reduce((n, b) => n + b.backends, 0),
      5,
    );
  });

  it("names the 5 busiest and the 5 least busy", () => {
    const s = summarizeBackends(reportOf(30, (i) => i + 1).perBackend);
    assert.deepEqual(
      s.top.map((b) => b.count),
      [30, 29, 28, 27, 26],
    );
    assert.deepEqual(
      s.bottom.map((b) => b.count),
      [5, 4, 3, 2, 1],
    );
  });
});

describe("text reports past 20 backends", () => {
  it("lists up to 20 backends in full, as before", () => {
    const r = reportOf(20, (i) => 10 + (i % 3));
    const text = formatReportText(r);
    assert.equal(barRows(text).length, 20);
    assert.equal(text, formatReportText(r, { allBackends: true }));
    assert.doesNotMatch(text, /calls per backend/);
  });

  it("summarises 1000 backends: top 5, bottom 5, a histogram of calls per backend", () => {
    const r = reportOf(1000, (i) => (i < 10 ? 20 : i >= 990 ? 1 : 10));
    const text = formatReportText(r);
    const rows = barRows(text);
    assert.equal(rows.length, 10);
    assert.match(rows[0] ?? "", / 20 +0\.2%/);
    assert.match(rows[9] ?? "", / 1 +0\.0%/);
    assert.match(text, /… 990 more \(all 1000: --all-backends\) …/);
    assert.match(text, /calls per backend: how many of the 1000 backends/);
    assert.match(text, /^ {3}9-10 \(0\.09-0\.10%\) {3}980 {2}█{40}$/m);
    assert.match(text, /^ {4}1-2 \(0\.01-0\.02%\) {4}10 {2}█$/m);
    assert.match(text, /^ {4}3-4 \(0\.03-0\.04%\) {5}0$/m);
    assert.match(text, /1000 backends answered 10010 of 10010 requests: 1 to 20 each/);
    assert.ok(text.split("\n").length < 40, `${text.split("\n").length} lines`);
  });

  it("lists all 1000 when asked", () => {
    const r = reportOf(1000, () => 2);
    assert.equal(barRows(formatReportText(r, { allBackends: true })).length, 1000);
  });
});

describe("HTML reports past 20 backends", () => {
  const cells = (html: string, heading: string): number => {
    const section = html.slice(html.indexOf(`<h2>${heading}</h2>`));
    const head = section.slice(0, section.indexOf("</thead>"));
    return head.split("<th>").length - 1;
  };

  it("keeps a column per backend up to 20", () => {
    const html = formatReportHtml(reportOf(20, () => 5));
    assert.equal(cells(html, "Per second"), 22);
    assert.doesNotMatch(html, /Calls per backend/);
  });

  it("shows 1000 backends as top and bottom rows, a histogram, and spreads instead of 1000 columns", () => {
    const html = formatReportHtml(reportOf(1000, (i) => 1 + (i % 4)));
    const backends = html.slice(
      html.indexOf("<h2>Backends</h2>"),
      html.indexOf("<h2>Calls per backend</h2>"),
    );
    assert.equal(backends.split("<tr>").length - 2, 10);
    assert.match(html, /<h2>Calls per backend<\/h2>/);
    assert.equal((html.match(/<td class="bar">/g) ?? []).length, 4);
    assert.equal(cells(html, "Per second"), 4);
    assert.equal(cells(html, "Connections"), 6);
    assert.equal(
      cells(
        formatReportHtml(
          reportOf(1000, () => 1),
          { allBackends: true },
        ),
        "Per second",
      ),
      1002,
    );
  });
});
