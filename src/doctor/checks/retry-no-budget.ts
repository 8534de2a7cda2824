import type { Json } from "../envoy-view.js";
import { DOCS } from "../finding.js";
import { obj } from "../view/json.js";
import { about, type Check, perCluster, retryOf } from "./check.js";

export const retryNoBudget: Check = perCluster(
  "retry-no-budget",
  "retries with no retry budget on the cluster",
  (c, scope) => {
    const retried = scope.routesTo(c.name).some((r) => retryOf(r)?.retry_on !== undefined);
    const thresholds = Array.isArray(obj(c.config.circuit_breakers).thresholds)
      ? (obj(c.config.circuit_breakers).thresholds as Json[])
      : [];
    if (
      c.kind === "AGGREGATE" ||
      !retried ||
      thresholds.some((t) => t.retry_budget !== undefined || t.max_retries !== undefined)
    )
      return undefined;
    return about(c, {
      severity: "warning",
      evidence: { field: "circuit_breakers.thresholds[].retry_budget", value: "absent (max_retries 3)" },
      why: "only 3 retries may be in flight at once by default: when a server goes away under load, most retries overflow and those calls fail",
      docs: `${DOCS}/intro/arch_overview/upstream/circuit_breaking`,
      patch: {
        circuit_breakers: {
          thresholds: [
            {
              priority: "DEFAULT",
              retry_budget: { budget_percent: { value: 25 }, min_retry_concurrency: 10 },
            },
          ],
        },
      },
    });
  },
);
