import type { ClusterView, Json } from "../envoy-view.js";
import { about, type Check, check, type Draft } from "./check.js";

/** Names shown before "and N more". */
const SHOWN = 3;

/**
 * A check of each cluster in scope whose findings are one per Envoy: a mesh's sidecar has the
 * same setting on tens of clusters, and one line says it as well as tens. With one cluster
 * the finding is about it, with its fix; with several it names them and merges no fix.
 */
export const groupedPerCluster = (
  id: string,
  title: string,
  applies: (c: ClusterView) => boolean,
  f: { severity: Draft["severity"]; field: string; value: string; why: string; docs: string; patch: Json },
): Check =>
  check(id, title, (scope) => {
    const hit = scope.clusters.filter(applies);
    const [first] = hit;
    if (first === undefined) return [];
    const base = { severity: f.severity, why: f.why, docs: f.docs };
    if (hit.length === 1)
      return [about(first, { ...base, evidence: { field: f.field, value: f.value }, patch: f.patch })];
    const names = hit.slice(0, SHOWN).map((c) => c.name);
    const more = hit.length > SHOWN ? ` and ${hit.length - SHOWN} more` : "";
    return [
      {
        ...base,
        subject: `${hit.length} clusters`,
        evidence: { field: f.field, value: `${f.value} on ${names.join(", ")}${more}` },
      },
    ];
  });
