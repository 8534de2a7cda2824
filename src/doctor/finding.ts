import { stringify } from "yaml";
import type { Json } from "./envoy-view.js";

export type Severity = "error" | "warning" | "info";
export const SEVERITIES: readonly Severity[] = ["error", "warning", "info"];

/**
 * Where a fix goes: a cluster, a route (by its place), a listener's HTTP connection manager or
 * the filter chain that holds it (by the manager's place), the admin block.
 */
export type FixTarget =
  | { kind: "cluster"; name: string }
  | { kind: "route"; where: string }
  | { kind: "manager"; listener: string }
  | { kind: "filter-chain"; listener: string }
  | { kind: "admin" }
  | { kind: "outside" };

/** A fix: fields to merge into its target (objects merged, everything else replaced). */
export interface Fix {
  target: FixTarget;
  patch: Json;
  /** What the snippet is, when it is not a merge into the running config (outside Envoy). */
  note?: string;
  /** Files the merged configuration reads, to write beside it (an SDS secret), each as its YAML. */
  files?: { path: string; content: Json }[];
}

/** One thing doctor found, with what it saw and what to change. */
export interface Finding {
  /** The check's id, stable across releases (e.g. "no-http2"). */
  check: string;
  severity: Severity;
  /** What it is about: "cluster server", "route grpc_ingress/grpc/#0", "admin", … */
  subject: string;
  /** The field looked at and the value seen there. */
  evidence: { field: string; value: string };
  /** One line on why it matters. */
  why: string;
  /** Envoy's documentation of the point. */
  docs: string;
  fix?: Fix;
}

export const DOCS = "https://www.envoyproxy.io/docs/envoy/latest";

/** The fix as the YAML to put under its target. */
export function fixYaml(fix: Fix): string {
  return stringify(fix.patch, { lineWidth: 0 }).trimEnd();
}

/** Deep merge of a fix's patch into a config object: objects merged, arrays and scalars replaced. */
export function mergePatch(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    out[k] = isPlainObject(v) && isPlainObject(cur) ? mergePatch(cur as Json, v as Json) : structuredClone(v);
  }
  return out;
}

const isPlainObject = (v: unknown): boolean => v !== null && typeof v === "object" && !Array.isArray(v);

/** Errors first, then warnings, then infos; stable within a severity. */
export function bySeverity(a: Finding, b: Finding): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);
}
