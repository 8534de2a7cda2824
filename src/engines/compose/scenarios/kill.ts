import { docker } from "../docker.js";
import { loseOneScenario } from "./lose-one.js";

/** kill -9 one replica: its connections reset, Docker's DNS drops it; outlier detection and retries hide it. */
export const kill = loseOneScenario({
  name: "kill",
  summary: "docker kill (SIGKILL) one of 3 replicas under load, then docker start it again",
  action: "docker kill",
  restoreAction: "docker start",
  comesBack: "new process",
  cutsReplies: true,
  inflict: async (_cluster, victim, signal) => {
    await docker(["kill", "--signal", "KILL", victim.id], { signal });
  },
  restore: async (_cluster, victim, signal) => {
    await docker(["start", victim.id], { signal });
  },
});
