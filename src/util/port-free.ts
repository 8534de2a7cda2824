import { createServer } from "node:net";

/**
 * True when nothing listens on host:port right now. A fast, early answer for
 * a clear message; the real bind later remains the judge (the port can be
 * taken in between).
 */
export function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}
