import { docker } from "../docker.js";
import type { ComposeContainer } from "../project.js";
import { loseOneScenario } from "./lose-one.js";

/** Docker adds the container's short id as an alias by itself; Compose's own aliases are put back. */
const composeAliases = (c: ComposeContainer): string[] => c.aliases.filter((a) => !c.id.startsWith(a));

/**
 * Cut one replica off the project network: Docker's DNS stops answering with it and its
 * connections lead nowhere, while the server itself runs on. Reconnected with the aliases
 * Compose gave it (the service name among them), it is back in DNS.
 */
export const disconnect = loseOneScenario({
  name: "disconnect",
  summary: "docker network disconnect one of 3 replicas under load, then connect it again",
  action: "docker network disconnect",
  restoreAction: "docker network connect",
  comesBack: "same process",
  inflict: async (cluster, victim, signal) => {
    await docker(["network", "disconnect", cluster.project.network, victim.id], { signal });
  },
  restore: async (cluster, victim, signal) => {
    const aliases = composeAliases(victim).flatMap((a) => ["--alias", a]);
    await docker(["network", "connect", ...aliases, cluster.project.network, victim.id], { signal });
  },
});
