import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import { messageOf, UsageError } from "../../errors.js";
import { type Json, obj } from "../view/json.js";

/** A bootstrap read from a file, and where it came from. */
export interface BootstrapFile {
  bootstrap: Json;
  /** "FILE", or "FILE (ConfigMap NAME, key KEY)". */
  label: string;
}

/** Fields only an Envoy bootstrap has at its top level. */
const BOOTSTRAP_FIELDS = ["static_resources", "dynamic_resources", "admin"];
const isBootstrap = (v: Json): boolean => BOOTSTRAP_FIELDS.some((f) => v[f] !== undefined);

function parseDocuments(text: string, what: string): Json[] {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  const error = list.flatMap((d) => d.errors)[0];
  if (error !== undefined)
    throw new UsageError(`grpc-lb doctor: ${what} is not YAML or JSON: ${error.message.split("\n")[0]}`);
  // A Kubernetes List holds its objects under items.
  return list
    .map((d) => obj(d.toJS({ maxAliasCount: 10_000 })))
    .flatMap((d) => (d.kind === "List" && Array.isArray(d.items) ? (d.items as Json[]) : [d]));
}

/**
 * The Envoy bootstrap in `path`: YAML or JSON, or a Kubernetes ConfigMap (in a file of one or
 * several documents) whose data holds one. `key` picks the ConfigMap key when several hold a
 * bootstrap. A UsageError when the file cannot be read or holds no bootstrap.
 */
export async function readBootstrapFile(path: string, key?: string): Promise<BootstrapFile> {
  const text = await readFile(path, "utf8").catch((e: unknown) => {
    throw new UsageError(`grpc-lb doctor: cannot read --config ${path}: ${messageOf(e)}`, { cause: e });
  });
  const docs = parseDocuments(text, path);
  const direct = docs.filter(isBootstrap);
  if (direct.length === 1 && key === undefined) return { bootstrap: direct[0] as Json, label: path };
  const found: { bootstrap: Json; label: string; key: string }[] = [];
  for (const d of docs.filter((x) => x.kind === "ConfigMap"))
    for (const [k, v] of Object.entries(obj(d.data))) {
      if (typeof v !== "string" || (key !== undefined && k !== key)) continue;
      const inner = (() => {
        try {
          return parseDocuments(v, `${path} key ${k}`).filter(isBootstrap);
        } catch {
          return [];
        }
      })();
      for (const b of inner)
        found.push({
          bootstrap: b,
          label: `${path} (ConfigMap ${String(obj(d.metadata).name ?? "")}, key ${k})`,
          key: k,
        });
    }
  if (found.length === 1) return found[0] as BootstrapFile;
  if (found.length > 1)
    throw new UsageError(
      `grpc-lb doctor: ${path} holds ${found.length} Envoy bootstraps (keys ${found.map((f) => f.key).join(", ")}); pick one with --config-key`,
    );
  if (direct.length > 1)
    throw new UsageError(
      `grpc-lb doctor: ${path} holds ${direct.length} Envoy bootstraps in separate documents; give one per file`,
    );
  throw new UsageError(
    key === undefined
      ? `grpc-lb doctor: ${path} holds no Envoy bootstrap (one has static_resources, dynamic_resources or admin at its top, or sits in a ConfigMap's data)`
      : `grpc-lb doctor: ${path} has no ConfigMap key '${key}' holding an Envoy bootstrap`,
  );
}
