import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvoyError, errorFrom } from "../errors.js";
import type { EnvoyTlsOptions } from "./options.js";
import { buildSdsFiles } from "./tls.js";
import { configToYaml } from "./yaml.js";

/**
 * Writes the SDS files of `tls` into its sdsDir, each by rename so that Envoy's watch never
 * reads half a file; Envoy refuses to start while one is missing.
 */
export async function writeSdsFiles(tls: EnvoyTlsOptions, header?: string): Promise<string[]> {
  try {
    await mkdir(tls.sdsDir, { recursive: true });
    const written: string[] = [];
    for (const [name, file] of Object.entries(buildSdsFiles(tls))) {
      const path = join(tls.sdsDir, name);
      await writeFile(`${path}.tmp`, configToYaml(file, header));
      await rename(`${path}.tmp`, path);
      written.push(path);
    }
    return written;
  } catch (e) {
    throw errorFrom(EnvoyError, e, `cannot write the SDS files into ${tls.sdsDir}`);
  }
}
