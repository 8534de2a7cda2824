import { runLoad } from "../../loadgen/run-load.js";
import { finishReport } from "./context.js";
import { check, round } from "./report.js";
import type { Scenario } from "./scenario.js";

/**
 * 100 servers behind one name: the DNS answer (about 1.6 KB) is too big for
 * UDP, so it is truncated and c-ares asks again over TCP; Envoy must still
 * get all 100 hosts and round robin must reach every one.
 */
export const many: Scenario = {
  name: "many",
  summary: "100 servers (25 per process) behind one DNS answer larger than 512 bytes; all must get traffic",
  labOptions: {
    servers: 100,
    serversPerProcess: 25,
    healthCheck: { intervalMs: 1000, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 1 },
  },
  async run(cluster, signal) {
    const t0 = performance.now();
    const servers = cluster.servers().length;
    const hosts = await cluster.hosts();
    const queries = cluster.dns.queries();
    const perServer = 10;
    const report = await runLoad({
      target: cluster.listenAddress,
      requests: servers * perServer,
      concurrency: 4,
      ...(signal ? { signal } : {}),
    });
    const counts = Object.values(report.backends);
    const exact = cluster.options.policy === "round_robin";
    return finishReport(
      "many",
      cluster,
      { ...report.requests, errors: report.errors },
      [
        check(
          "Envoy has every server as a host",
          hosts.length === servers && hosts.every((h) => h.healthy),
          `${hosts.length} hosts`,
        ),
        check(
          "the big answer came over TCP",
          queries.tcp > 0,
          `${queries.udp} UDP and ${queries.tcp} TCP answers`,
        ),
        check(
          "no failed calls",
          report.requests.failed === 0,
          `${report.requests.failed} of ${report.requests.total} failed`,
        ),
        check("every server answered", counts.length === servers, `${counts.length} of ${servers}`),
        ...(exact
          ? [
              check(
                "round robin is exact",
                counts.every((n) => n === perServer),
                `min ${Math.min(...counts)}, max ${Math.max(...counts)}`,
              ),
            ]
          : []),
      ],
      {
        measurements: {
          hosts: hosts.length,
          dnsUdpAnswers: queries.udp,
          dnsTcpAnswers: queries.tcp,
          p99Ms: report.latencyMs.p99,
          loadMs: round(report.durationMs),
        },
        distributions: [{ phase: `${report.requests.total} calls`, backends: report.backends }],
      },
      performance.now() - t0,
    );
  },
};
