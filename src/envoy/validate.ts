import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ValidationResult {
  ok: boolean;
  /** What Envoy printed (its verdict, and on failure the reason). */
  output: string;
}

/** Runs `envoy --mode validate` on a config: Envoy's own parser is the judge. */
export async function validateEnvoyConfig(binary: string, configYaml: string): Promise<ValidationResult> {
  const dir = await mkdtemp(join(tmpdir(), "grpc-lb-validate-"));
  try {
    const path = join(dir, "envoy.yaml");
    await writeFile(path, configYaml);
    return await new Promise((resolve) => {
      execFile(
        binary,
        ["--mode", "validate", "-c", path, "--disable-hot-restart", "--log-level", "warning"],
        { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ ok: err === null, output: `${stdout}${stderr}`.trim() }),
      );
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
