import { runLoad } from "../../loadgen/run-load.js";
import { check, round, totalsOf } from "../../scenarios/report.js";
import { envoyAgrees } from "../cross-check.js";
import type { LabScenario } from "./lab-scenario.js";

/**
 * 100 servers behind one name: the DNS answer (about 1.6 KB) is too big for
 * UDP, so it is truncated and c-ares asks again over TCP; Envoy must still
 * get all 100 hosts and round robin must reach every one.
 */
export const many: LabScenario = {
  name: "many",
  summary: "100 servers (25 per process) behind one DNS answer larger than 512 bytes; all must get traffic",
  labOptions: {
    servers: 100,
    serversPerProcess: 25,
    envoy: { healthCheck: { intervalMs: 1000, timeoutMs: 500, unhealthyThreshold: 2, healthyThreshold: 1 } },
  },
  load: "none",
  async run({ env: lab, hosts, signal }) {
    const servers = lab.servers();
    const before = await hosts();
    const requestsBefore = await lab.requestsPerHost();
    const queries = lab.dns.queries();
    const perServer = 10;
    const report = await runLoad({
      target: lab.listenAddress,
      requests: servers.length * perServer,
      concurrency: 4,
      signal,
    });
    const counts = Object.values(report.backends);
    const exact = lab.options.envoy.policy === "round_robin";
    const agreement = envoyAgrees(servers, report.backends, requestsBefore, await lab.requestsPerHost());
    return {
      requests: totalsOf(report),
      checks: [
        check(
          "Envoy has every server as a host",
          before.length === servers.length && before.every((h) => h.healthy),
          `${before.length} hosts`,
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
        check(
          "every server answered",
          counts.length === servers.length,
          `${counts.length} of ${servers.length}`,
        ),
        ...(exact
          ? [
              check(
                "round robin is exact",
                counts.every((n) => n === perServer),
                `min ${Math.min(...counts)}, max ${Math.max(...counts)}`,
              ),
            ]
          : []),
        check("Envoy's per-host counts match the client's", agreement.agree, agreement.detail),
      ],
      measurements: {
        hosts: before.length,
        dnsUdpAnswers: queries.udp,
        dnsTcpAnswers: queries.tcp,
        p99Ms: report.latencyMs.p99,
        loadMs: round(report.durationMs),
      },
      distributions: [{ phase: `${report.requests.total} calls`, backends: report.backends }],
    };
  },
};
