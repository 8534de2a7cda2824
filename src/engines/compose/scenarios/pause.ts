import { docker } from "../docker.js";
import { loseOneScenario } from "./lose-one.js";

/**
 * Freeze one replica (cgroup freezer): it stays in DNS and its connections stay open, but
 * nothing answers. Only timeouts can tell: health checks time out, calls time out per try
 * and are retried on another host. A reply it had begun when frozen is past retrying: it
 * ends once the replica thaws, so the load's calls carry a deadline longer than the freeze.
 */
export const pause = loseOneScenario({
  name: "pause",
  summary: "docker pause one of 3 replicas under load, then docker unpause it",
  action: "docker pause",
  restoreAction: "docker unpause",
  comesBack: "same process",
  holdsCalls: true,
  inflict: async (_cluster, victim, signal) => {
    await docker(["pause", victim.id], { signal });
  },
  restore: async (_cluster, victim, signal) => {
    await docker(["unpause", victim.id], { signal });
  },
});
