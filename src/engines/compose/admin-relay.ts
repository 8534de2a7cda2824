import { randomUUID } from "node:crypto";
import { SERVER_IMAGE } from "../../deploy/presets.js";
import { EnvoyAdmin } from "../../envoy/admin.js";
import { EngineError, messageOf } from "../../errors.js";
import { formatHostPort } from "../../util/address.js";
import { waitFor } from "../../util/wait.js";
import { docker } from "./docker.js";
import type { ComposeProject } from "./project.js";

/** Label of the relay container, so a cleanup (make e2e-compose's trap) can find it. */
export const RELAY_LABEL = "io.grpc-envoy-lb.role=envoy-admin-relay";
/** Port the relay listens on, on Envoy's address in the project network. */
export const RELAY_PORT = 9902;
/** Label key naming one relay's run (pid and a random id), to remove exactly that container. */
const RELAY_RUN_LABEL = "io.grpc-envoy-lb.relay-run";

// Runs in the relay container: forwards connections from `allowed` only to Envoy's admin
// on 127.0.0.1 of the same network namespace; prints one line once listening.
const RELAY_SCRIPT = `
const net = require("node:net");
const [listenIp, port, allowed, adminPort] = process.argv.slice(1);
const server = net.createServer((c) => {
  if (c.remoteAddress.replace(/^::ffff:/, "") !== allowed) return c.destroy();
  const u = net.connect(Number(adminPort), "127.0.0.1");
  c.pipe(u).pipe(c);
  c.on("error", () => u.destroy());
  u.on("error", () => c.destroy());
});
server.listen(Number(port), listenIp, () => console.log("relay ready"));
process.on("SIGTERM", () => process.exit(0));
`;

export interface AdminRelay {
  admin: EnvoyAdmin;
  /** Removes the relay container. */
  stop(): Promise<void>;
}

/**
 * Reaches Envoy's admin API, which listens on 127.0.0.1 inside the Envoy container and is
 * never published. A short-lived container joins Envoy's network namespace
 * (`--network container:…`) and forwards one port on Envoy's project address to it,
 * accepting only this host (the network's gateway). It lives only while a scenario runs.
 */
export async function startAdminRelay(
  project: ComposeProject,
  adminPort: number,
  signal?: AbortSignal,
): Promise<AdminRelay> {
  const envoy = await project.envoy(signal);
  if (envoy.ip === "") throw new EngineError(`compose: ${envoy.name} has no address on ${project.network}`);
  const gateway = (
    await docker(
      ["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", project.network],
      {
        signal,
      },
    )
  )
    .trim()
    .split(/\s+/)[0];
  if (gateway === undefined || gateway === "") {
    throw new EngineError(`compose: network ${project.network} reports no gateway address`);
  }
  const name = `${project.o.project}-admin-relay-${process.pid}`;
  // A label of this relay alone: a `docker run` cut short (Ctrl-C) may have created the
  // container without reporting its id, so it is removed by label, not by what run printed.
  const runLabel = `${RELAY_RUN_LABEL}=${process.pid}-${randomUUID()}`;
  const stop = async (): Promise<void> => {
    const ids = await docker(["ps", "-aq", "--filter", `label=${runLabel}`], { timeoutMs: 20_000 }).catch(
      () => "",
    );
    const list = ids.split("\n").filter(Boolean);
    await docker(["rm", "-f", ...(list.length > 0 ? list : [name])], { timeoutMs: 20_000 }).catch(() => "");
  };
  await docker(["rm", "-f", name], { signal }).catch(() => "");
  await docker(
    [
      "run",
      "-d",
      "--rm",
      "--name",
      name,
      "--label",
      RELAY_LABEL,
      "--label",
      runLabel,
      "--network",
      `container:${envoy.id}`,
      "--read-only",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges:true",
      "--user",
      "1000:1000",
      SERVER_IMAGE,
      "node",
      "-e",
      RELAY_SCRIPT,
      envoy.ip,
      String(RELAY_PORT),
      gateway,
      String(adminPort),
    ],
    { signal },
  ).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  const admin = new EnvoyAdmin(formatHostPort(envoy.ip, RELAY_PORT));
  try {
    await waitFor(
      `Envoy's admin API through the relay at ${admin.address}`,
      () => admin.live().then((ok) => ok || undefined),
      {
        timeoutMs: 15_000,
        intervalMs: 100,
        ...(signal ? { signal } : {}),
      },
    );
  } catch (e) {
    const logs = await docker(["logs", name]).catch((l: unknown) => messageOf(l));
    await stop();
    throw new EngineError(
      `compose: the admin relay did not come up: ${messageOf(e)}; relay logs: ${logs.trim()}`,
      {
        cause: e,
      },
    );
  }
  return { admin, stop };
}
