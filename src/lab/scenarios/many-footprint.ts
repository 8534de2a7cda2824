import { check, type ScenarioCheck, type ScenarioReport } from "../../scenarios/report.js";
import type { ScenarioContext } from "../../scenarios/scenario.js";
import { type LabCluster, SERVER_NAME } from "../cluster.js";
import { idleCpu, mib, processUsage } from "./process-usage.js";

/** Shortest window Envoy's idle CPU is measured over, in ms; it spans 2 health-check intervals at least. */
const MIN_IDLE_WINDOW_MS = 2000;

/** What holding many servers costs, before any load: the hosts, the DNS answers, Envoy's idle CPU, memory. */
export interface Footprint {
  checks: ScenarioCheck[];
  measurements: ScenarioReport["measurements"];
}

/**
 * Checks that Envoy holds every server as a host and that the big DNS answer
 * came over TCP, then measures Envoy's idle CPU and memory while it
 * health-checks them all, and the servers' processes.
 */
export async function measureFootprint({
  env: lab,
  hosts,
  signal,
}: ScenarioContext<LabCluster>): Promise<Footprint> {
  const servers = lab.servers();
  const n = servers.length;
  const before = await hosts();
  const queries = lab.dns.queries();
  const answers = lab.dns.answers(SERVER_NAME);
  const wholeOver = new Set(answers.filter((a) => a.records === n).map((a) => a.transport));
  const truncatedUdp = answers.filter((a) => a.transport === "udp" && a.truncated).length;

  const hc = lab.options.envoy.healthCheck;
  const hcIntervalMs = hc === false ? 0 : hc.intervalMs;
  const dnsBefore = lab.dns.queries();
  const idle = await idleCpu(lab.envoy.process.pid, Math.max(MIN_IDLE_WINDOW_MS, 2 * hcIntervalMs), signal);
  const dnsAfter = lab.dns.queries();
  const processes = [...new Set(servers.map((s) => s.process.pid))];
  const serverUsage = await Promise.all(processes.map(processUsage));
  return {
    checks: [
      check(
        "Envoy has every server as a host",
        before.length === n && before.every((h) => h.healthy),
        `${before.length} hosts`,
      ),
      check(
        "the big answer came over TCP",
        queries.tcp > 0 && truncatedUdp > 0 && wholeOver.size === 1 && wholeOver.has("tcp"),
        `${queries.udp} UDP answers (${truncatedUdp} truncated) and ${queries.tcp} TCP; all ${n} records only over ${[...wholeOver].join(", ") || "nothing"}`,
      ),
    ],
    measurements: {
      hosts: before.length,
      serverProcesses: processes.length,
      dnsUdpAnswers: queries.udp,
      dnsTcpAnswers: queries.tcp,
      healthCheckIntervalMs: hcIntervalMs,
      dnsRefreshMs: lab.options.envoy.dnsRefreshMs,
      envoyIdleCpuPct: idle.cpuPct,
      envoyIdleWindowMs: idle.windowMs,
      dnsAnswersInIdleWindow: dnsAfter.udp + dnsAfter.tcp - dnsBefore.udp - dnsBefore.tcp,
      envoyRssMiB: mib(idle.rssBytes),
      serverRssMiBMax: mib(Math.max(...serverUsage.map((u) => u.rssBytes))),
      serverRssMiBTotal: mib(serverUsage.reduce((t, u) => t + u.rssBytes, 0)),
      serverFdsMax: Math.max(...serverUsage.map((u) => u.fds)),
    },
  };
}
