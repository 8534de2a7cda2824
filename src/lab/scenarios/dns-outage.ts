import { check, distribution, round } from "../../scenarios/report.js";
import type { LabScenario } from "./lab-scenario.js";

/** The DNS server goes away for a while: Envoy keeps the hosts it has, and every call still succeeds. */
export const dnsOutage: LabScenario = {
  name: "dns-outage",
  summary:
    "stop the DNS server under load until Envoy has failed to resolve 3 times; hosts and calls must survive",
  labOptions: { servers: 3, envoy: { dnsRefreshMs: 250 } },
  load: "paced",
  async run({ env: lab, load, waitFor, hosts, stat }) {
    const failuresBefore = await stat("update_failure");
    const downAt = load.now();
    await lab.dns.suspend();
    let minHealthy = Number.POSITIVE_INFINITY;
    let upAt: number;
    let recoverMs: number;
    try {
      await waitFor("Envoy to fail 3 DNS refreshes", async () => {
        minHealthy = Math.min(minHealthy, (await hosts()).filter((h) => h.healthy).length);
        return (await stat("update_failure")) >= failuresBefore + 3 ? true : undefined;
      });
      upAt = load.now();
      const successesBefore = await stat("update_success");
      await lab.dns.resume();
      const t = performance.now();
      await waitFor(`Envoy to resolve again (update_success past ${successesBefore})`, async () =>
        (await stat("update_success")) > successesBefore ? true : undefined,
      );
      recoverMs = performance.now() - t;
    } finally {
      await lab.dns.resume();
    }
    await load.waitForMore(200);
    const results = await load.finish();
    const during = distribution(results, downAt, upAt);
    const servers = lab.servers().length;
    return {
      checks: [
        check(
          "Envoy kept every host during the outage",
          minHealthy === servers,
          `at least ${minHealthy} of ${servers} healthy`,
        ),
        check(
          "load stayed spread during the outage",
          Object.keys(during).length === servers,
          `${Object.keys(during).length} answered`,
        ),
      ],
      measurements: {
        outageMs: round(upAt - downAt),
        failedDnsRefreshes: (await stat("update_failure")) - failuresBefore,
        resumeToResolvedMs: round(recoverMs),
      },
      distributions: [
        { phase: "before", backends: distribution(results, 0, downAt) },
        { phase: "DNS down", backends: during },
        { phase: "DNS back", backends: distribution(results, upAt) },
      ],
    };
  },
};
