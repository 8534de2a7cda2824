import { DOCS } from "../finding.js";
import { obj } from "../view/json.js";
import { about, type Check, outlierOf, perCluster } from "./check.js";

export const panicHidesEjection: Check = perCluster(
  "panic-hides-ejection",
  "the panic threshold next to outlier detection",
  (c) => {
    const outlier = outlierOf(c);
    if (outlier === undefined) return undefined;
    const maxEjectionPct = Number(outlier.max_ejection_percent ?? 10);
    // A Percent of 0 prints as {}: present without a value is 0, absent is Envoy's 50.
    const threshold = obj(c.config.common_lb_config).healthy_panic_threshold;
    const panicPct = threshold === undefined ? 50 : Number(obj(threshold).value ?? 0);
    if (panicPct === 0 || 100 - maxEjectionPct >= panicPct) return undefined;
    return about(c, {
      severity: "warning",
      evidence: {
        field: "outlier_detection.max_ejection_percent, common_lb_config.healthy_panic_threshold",
        value: `${maxEjectionPct}%, ${panicPct}%`,
      },
      why: `ejections alone can leave fewer than ${panicPct}% of hosts healthy; Envoy then panics and routes to every host, the ejected ones too`,
      docs: `${DOCS}/intro/arch_overview/upstream/load_balancing/panic_threshold`,
      patch: { outlier_detection: { max_ejection_percent: 100 - panicPct } },
    });
  },
);
