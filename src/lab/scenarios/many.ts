import { runLoad } from "../../loadgen/run-load.js";
import { check, noFailedCalls, round, totalsOf, withinBudget } from "../../scenarios/report.js";
import { envoyAgrees } from "../cross-check.js";
import { LAB_OUTLIER_DETECTION, LAB_RETRY } from "../lab-envoy-options.js";
import { removalBudgetMs } from "./budgets.js";
import type { LabScenario } from "./lab-scenario.js";
import { measureFootprint } from "./many-footprint.js";
import { joinUnderLoad } from "./many-join.js";
import { halfByProcess, removeUnderLoad } from "./many-removal.js";

/** Calls each server gets in the round-robin phase. */
const PER_SERVER = 10;

/**
 * Many servers (100 by default, up to 1,000 with --servers) behind one name:
 * the DNS answer is too big for UDP, so it is truncated and c-ares asks again
 * over TCP. Measures Envoy's memory and idle CPU while it health-checks them all,
 * checks that round robin over one connection gives each exactly its share,
 * loses the servers of half the processes at once (DNS records dropped,
 * processes SIGKILLed) under load, then adds as many back and measures how
 * long until Envoy routes to all of them again.
 */
export const many: LabScenario = {
  name: "many",
  summary:
    "100 servers (25 per process; --servers up to 1000) behind one DNS answer larger than 512 bytes: all get traffic, then half are lost under load",
  labOptions: {
    servers: 100,
    serversPerProcess: 25,
    // Envoy stops before the servers: a drain delay at the end would only wait for no one.
    serverDrainDelayMs: 0,
    envoy: {
      // A late answer from a process serving 125 instances on a busy 2-core machine is not a dead host.
      healthCheck: { intervalMs: 1000, timeoutMs: 2000, unhealthyThreshold: 2, healthyThreshold: 1 },
      // Losing half the hosts at once sends about every other try to a dead host until Envoy
      // lets them go (the next DNS refresh): retries run far beyond 25% of the active calls,
      // and 4 tries in a row on dead hosts are too likely (1 in 16): 11 tries make it about 1 in
      // 2000 while hosts are ejected one refused connection each.
      // A 2-core machine running 1000 instances answers a first call on a new connection slowly:
      // a try cut at 1 s goes to another host, and round robin is no longer exact.
      retry: {
        ...LAB_RETRY,
        numRetries: 10,
        budgetPercent: 100,
        minRetryConcurrency: 100,
        perTryTimeoutMs: 5000,
      },
      connectTimeoutMs: 5000,
      outlierDetection: { ...LAB_OUTLIER_DETECTION, consecutiveLocalFailures: 1 },
    },
  },
  load: "none",
  sizable: true,
  async run(ctx) {
    const { env: lab, signal } = ctx;
    const servers = lab.servers();
    const n = servers.length;
    const footprint = await measureFootprint(ctx);

    const requestsBefore = await lab.requestsPerHost();
    const retriesBefore = await ctx.stat("upstream_rq_retry");
    const hcFailuresBefore = await ctx.stat("health_check.failure");
    const report = await runLoad({
      target: lab.listenAddress,
      tls: lab.clientTls,
      requests: n * PER_SERVER,
      concurrency: 4,
      signal,
    });
    const counts = Object.values(report.backends);
    const exact = lab.options.envoy.policy === "round_robin";
    const agreement = envoyAgrees(servers, report.backends, requestsBefore, await lab.requestsPerHost());
    const retries = (await ctx.stat("upstream_rq_retry")) - retriesBefore;
    // A failed check takes a host out of the rotation for a moment: round robin is exact only without.
    const hcFailures = (await ctx.stat("health_check.failure")) - hcFailuresBefore;

    const removal = await removeUnderLoad(ctx, halfByProcess(servers));
    const join = await joinUnderLoad(ctx, removal.removed);
    const removalBudget = removalBudgetMs(lab.options);
    return {
      requests: totalsOf(report),
      checks: [
        ...footprint.checks,
        check(
          "no failed calls",
          report.requests.failed === 0,
          `${report.requests.failed} of ${report.requests.total} failed`,
        ),
        check("every server answered", counts.length === n, `${counts.length} of ${n}`),
        ...(exact
          ? [
              check(
                `round robin is exact (${PER_SERVER} calls each)`,
                counts.length === n && counts.every((k) => k === PER_SERVER),
                `min ${Math.min(...counts)}, max ${Math.max(...counts)}; ${hcFailures} failed health checks meanwhile`,
              ),
            ]
          : []),
        check(
          "Envoy's per-host counts match the client's",
          agreement.agree,
          `${agreement.detail}; Envoy retried ${retries}`,
        ),
        {
          ...noFailedCalls(removal.load, removal.cut),
          name: `no failed calls while ${removal.removed} servers were lost`,
        },
        {
          ...noFailedCalls(join.load),
          name: `no failed calls while ${join.added} servers joined`,
        },
        withinBudget("Envoy let the lost servers go in time", removal.hostsGoneMs, removalBudget),
        check(
          "no lost server answered once Envoy had let it go",
          removal.answeredByRemovedAfterGone === 0,
          `${removal.answeredByRemovedAfterGone} calls`,
        ),
      ],
      measurements: {
        ...footprint.measurements,
        healthCheckFailuresInRoundRobin: hcFailures,
        p99Ms: report.latencyMs.p99,
        loadMs: round(report.durationMs),
        removedServers: removal.removed,
        removalToHostsGoneMs: round(removal.hostsGoneMs),
        removalBudgetMs: removalBudget,
        removalCalls: removal.load.requests.total,
        removalFailedCalls: removal.load.requests.failed,
        removalRepliesCutByKill: removal.cut.count,
        joinedServers: join.added,
        joinToAllHealthyMs: round(join.allHealthyMs),
        joinToAllAnsweredMs: round(join.allAnsweredMs),
        joinCalls: join.load.requests.total,
        joinFailedCalls: join.load.requests.failed,
      },
      distributions: [
        { phase: `${report.requests.total} calls`, backends: report.backends },
        {
          phase: `${removal.load.requests.total} calls while losing ${removal.removed}`,
          backends: removal.load.backends,
        },
        {
          phase: `${join.load.requests.total} calls while ${join.added} joined`,
          backends: join.load.backends,
        },
      ],
    };
  },
};
