import { dnsOutage } from "./dns-outage.js";
import { drain } from "./drain.js";
import { failover } from "./failover.js";
import { many } from "./many.js";
import type { ScenarioName } from "./report.js";
import { scale } from "./scale.js";
import type { Scenario } from "./scenario.js";

// A record over every name: a scenario missing here is a compile error.
export const scenarios: Record<ScenarioName, Scenario> = {
  failover,
  scale,
  drain,
  "dns-outage": dnsOutage,
  many,
};
