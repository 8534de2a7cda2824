import { type DoctorReport, exitFor } from "./doctor.js";
import { type Finding, type FixTarget, fixYaml, type Severity } from "./finding.js";
import { listOf } from "./list-of.js";

const indent = (text: string, by: string): string =>
  text
    .split("\n")
    .map((l) => by + l)
    .join("\n");

/** Where the fix's YAML goes, in the words of Envoy's configuration. */
function fixPlace(t: FixTarget): string {
  switch (t.kind) {
    case "cluster":
      return `merge into cluster ${t.name}`;
    case "route":
      return `merge into the route action (route:) of ${t.where}`;
    case "manager":
      return `merge into the http_connection_manager of listener ${t.listener}`;
    case "filter-chain":
      return `merge into the filter chain of listener ${t.listener}`;
    case "admin":
      return "merge into admin";
    case "outside":
      return "outside Envoy";
  }
}

/**
 * One finding, or several alike (the same check, evidence and fix on many clusters or routes of
 * a large dump) as one entry that names them all.
 */
function formatFinding(group: Finding[]): string {
  const f = group[0] as Finding;
  const subjects =
    group.length === 1 ? f.subject : `${group.length} alike: ${listOf(group.map((g) => g.subject))}`;
  const lines = [
    `${f.severity.toUpperCase().padEnd(8)}${f.check}  ${subjects}`,
    `  saw:  ${f.evidence.field} = ${f.evidence.value}`,
    `  why:  ${f.why}`,
    `  docs: ${f.docs}`,
  ];
  if (f.fix !== undefined) {
    const where = f.fix.note ?? (group.length === 1 ? fixPlace(f.fix.target) : "merge into each of them");
    lines.push(`  fix:  ${where}:`, indent(fixYaml(f.fix), "          "));
    for (const file of f.fix.files ?? [])
      lines.push(
        `        and write ${file.path}:`,
        indent(fixYaml({ ...f.fix, patch: file.content }), "          "),
      );
  }
  return lines.join("\n");
}

/** Findings grouped when only their subject differs, in the order of their first. */
function alike(findings: Finding[]): Finding[][] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = JSON.stringify([
      f.check,
      f.severity,
      f.evidence,
      f.why,
      f.fix && fixYaml(f.fix),
      f.fix?.note,
      f.fix?.files,
    ]);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()];
}

/** The report as a person reads it: what was checked, each finding, the live split, the verdict. */
export function formatDoctorText(r: DoctorReport, failOn: Severity = "error"): string {
  const clusters =
    r.clusters.length <= 8
      ? r.clusters.map((c) => `cluster ${c}`).join(", ")
      : `${r.clusters.length} clusters (${r.clusters.slice(0, 3).join(", ")}, …)`;
  const out = [
    `doctor: Envoy ${r.envoyVersion}, ${r.config === undefined ? `admin ${r.admin}` : `config ${r.config}`}`,
    r.clusters.length === 0
      ? `checked: no cluster, ${r.checks} checks`
      : `checked: ${clusters} (${r.routes} gRPC route${r.routes === 1 ? "" : "s"}${r.routesGuessed ? ", taken as gRPC: no route matches gRPC explicitly" : ""}), ${r.checks} checks`,
    "",
  ];
  for (const group of alike(r.findings)) out.push(formatFinding(group), "");
  if (r.findings.length === 0) out.push("no finding", "");
  if (r.live !== undefined) {
    const l = r.live;
    const failed = Object.entries(l.failed)
      .map(([name, f]) => `${f.count} ${name}`)
      .join(", ");
    out.push(
      `live: ${l.calls} ${l.method} calls through ${l.listener}: ${l.ok} ok${failed ? `, ${failed}` : ""}`,
    );
    if (l.cluster === undefined)
      out.push("  no host's request counter moved: the calls did not reach a cluster in scope");
    else {
      out.push(
        `  cluster ${l.cluster}, requests per host (Envoy's rq_total before and after):`,
        ...Object.entries(l.hosts)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([h, n]) => `    ${h.padEnd(24)}${String(n).padStart(6)}${n === 0 ? "  never reached" : ""}`),
        `  max/min ${l.maxMinRatio === null ? "n/a (one host)" : Number.isFinite(l.maxMinRatio) ? l.maxMinRatio.toFixed(2) : "∞ (a host got none)"}`,
      );
    }
    out.push("");
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  if (r.notes.length > 0) out.push("");
  const c = r.counts;
  out.push(
    `result: ${c.error} error${c.error === 1 ? "" : "s"}, ${c.warning} warning${c.warning === 1 ? "" : "s"}, ${c.info} info → exit ${exitFor(r, failOn)}${failOn === "error" ? "" : ` (--fail-on ${failOn})`}`,
  );
  return `${out.join("\n")}\n`;
}

/** One line of JSON per report, so several (one per Envoy pod) read as JSON Lines. */
export function formatDoctorJson(r: DoctorReport): string {
  return `${JSON.stringify(r, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? "Infinity" : v))}\n`;
}
