import { arr, type Json, obj } from "../view/json.js";
import type { Sanitized } from "./sanitize.js";

const ADMIN_V3 = "type.googleapis.com/envoy.admin.v3.";

/** Calls `visit` on every object in `v`, depth first. */
function eachObject(v: unknown, visit: (o: Json) => void): void {
  if (Array.isArray(v)) for (const x of v) eachObject(x, visit);
  else if (v !== null && typeof v === "object") {
    visit(v as Json);
    for (const x of Object.values(v as Json)) eachObject(x, visit);
  }
}

/**
 * The private keys the dump redacts, put back from the file where they are file names: by the
 * certificate file they go with. So a fix that moves certificates to SDS names the real key file.
 */
function restorePrivateKeys(dump: Json, file: Json): void {
  const keys = new Map<string, unknown>();
  eachObject(file, (o) => {
    const chain = obj(o.certificate_chain).filename;
    if (typeof chain === "string" && obj(o.private_key).filename !== undefined)
      keys.set(chain, o.private_key);
  });
  if (keys.size === 0) return;
  eachObject(dump, (o) => {
    const chain = obj(o.certificate_chain).filename;
    const key = typeof chain === "string" ? keys.get(chain) : undefined;
    if (key !== undefined) o.private_key = structuredClone(key);
  });
}

/**
 * Puts back into the throwaway Envoy's /config_dump what sanitize() changed, so that findings
 * name the file's own listeners, admin address and endpoints: static listeners matched by name,
 * unnamed ones in order; static clusters by name.
 */
export function restoreDump(dump: Json, file: Json, s: Sanitized): void {
  const fileStatic = obj(file.static_resources);
  const fileListeners = arr(fileStatic.listeners);
  const fileClusters = new Map(arr(fileStatic.clusters).map((c) => [String(c.name ?? ""), c]));
  const unnamed = fileListeners.flatMap((l, i) => (l.name === undefined ? [i] : []));
  restorePrivateKeys(dump, file);
  for (const section of arr(dump.configs)) {
    switch (section["@type"]) {
      case `${ADMIN_V3}BootstrapConfigDump`: {
        const admin = obj(obj(section.bootstrap).admin);
        if (s.adminAddress === undefined) delete admin.address;
        else admin.address = s.adminAddress;
        break;
      }
      case `${ADMIN_V3}ListenersConfigDump`: {
        let k = 0;
        for (const entry of arr(section.static_listeners)) {
          const l = obj(entry.listener);
          const i = l.name === undefined ? unnamed[k++] : fileListeners.findIndex((f) => f.name === l.name);
          const original = i === undefined || i < 0 ? undefined : s.listenerAddresses[i];
          if (original !== undefined) l.address = original;
        }
        break;
      }
      case `${ADMIN_V3}ClustersConfigDump`:
        for (const entry of arr(section.static_clusters)) {
          const c = obj(entry.cluster);
          const original = fileClusters.get(String(c.name ?? ""));
          if (original?.load_assignment !== undefined)
            c.load_assignment = structuredClone(original.load_assignment);
        }
        break;
    }
  }
}
