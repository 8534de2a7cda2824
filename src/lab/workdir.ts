import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "grpc-lb-lab-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A work directory for one lab, named after this process. Directories left by
 * labs whose process is gone (killed with SIGKILL: no clean-up ran) are
 * removed first, so nothing piles up in the temp directory.
 */
export async function makeLabWorkDir(): Promise<string> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (name) => {
      const pid = Number(/^grpc-lb-lab-(\d+)-/.exec(name)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && !alive(pid)) {
        await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => {});
      }
    }),
  );
  return mkdtemp(join(tmpdir(), `${PREFIX}${process.pid}-`));
}
