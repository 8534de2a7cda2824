import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../src/paths.js";
import { type EnvoyReading, readingFromClusters } from "../src/watch/reading.js";

/** A recorded /clusters?format=json of test/admin-samples/ (SOURCES.md there says where each comes from), read at `atMs`. */
export function recorded(name: string, atMs = 0): EnvoyReading {
  const body: unknown = JSON.parse(
    readFileSync(join(packageRoot, "test", "admin-samples", `${name}.clusters.json`), "utf8"),
  );
  return readingFromClusters(body, "127.0.0.1:9901", atMs);
}
