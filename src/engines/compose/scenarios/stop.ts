import { check } from "../../../scenarios/report.js";
import { docker } from "../docker.js";
import { loseOneScenario } from "./lose-one.js";

/**
 * Stop one replica as `docker compose stop` does: SIGTERM, then SIGKILL after the service's
 * stop_grace_period. (`docker compose stop` names services, not replicas, so the one
 * container is stopped with `docker stop`, which uses the same stop timeout Compose set on it.)
 * The server reports NOT_SERVING and keeps serving until Envoy's health checks take it out.
 */
export const stop = loseOneScenario({
  name: "stop",
  summary: "docker stop (SIGTERM, drain) one of 3 replicas under load, then docker start it again",
  action: "docker stop",
  restoreAction: "docker start",
  comesBack: "new process",
  inflict: async (_cluster, victim, signal) => {
    await docker(["stop", victim.id], { signal, timeoutMs: 90_000 });
  },
  restore: async (_cluster, victim, signal) => {
    await docker(["start", victim.id], { signal });
  },
  async checksAfterInflict(_cluster, victim, signal) {
    const exitCode = Number(
      (await docker(["inspect", "--format", "{{.State.ExitCode}}", victim.id], { signal })).trim(),
    );
    const logs = await docker(["logs", "--tail", "20", victim.id], { signal });
    const drained = logs
      .split("\n")
      .some((l) => l.includes('"event":"stopped"') && l.includes('"outcome":"drained"'));
    return [
      check(
        "the stopped server drained and exited 0",
        exitCode === 0 && drained,
        `exit ${exitCode}, ${drained ? "drained" : "no 'drained' line"}`,
      ),
    ];
  },
});
