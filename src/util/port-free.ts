import { createServer } from "node:net";

/**
 * False when something already listens on host:port. A fast, early answer for
 * a clear message; the real bind later remains the judge (the port can be
 * taken in between).
 */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    // Only "in use" is this check's business; any other bind error is left to the real bind to report.
    probe.once("error", (e: NodeJS.ErrnoException) => resolve(e.code !== "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
