import { execFile } from "node:child_process";
import type { PeerDriver } from "./driver.js";

export interface PeerValidation {
  ok: boolean;
  /** What the binary printed: its verdict, and on failure the reason. */
  output: string;
}

/** Checks a written configuration with the proxy's own parser (`haproxy -c -f`, `nginx -t -c`). */
export function validatePeerConfig(
  driver: PeerDriver,
  binary: string,
  configPath: string,
  workDir: string,
): Promise<PeerValidation> {
  return new Promise((resolve) => {
    execFile(
      binary,
      driver.checkArgs(configPath, workDir),
      { timeout: 30_000, maxBuffer: 4 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ ok: err === null, output: `${stdout}${stderr}`.trim() }),
    );
  });
}
