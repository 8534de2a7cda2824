import { type Check, clusterChecks } from "./checks-cluster.js";
import { healthChecks } from "./checks-health.js";
import { routeChecks } from "./checks-route.js";
import { bySeverity, type Finding } from "./finding.js";
import type { Scope } from "./scope.js";

export type { Check };

/** Every check of the running configuration, in the order findings are listed within a severity. */
export const CHECKS: readonly Check[] = [...clusterChecks, ...healthChecks, ...routeChecks];

/** Runs every check on the scope: findings, errors first. */
export function runChecks(scope: Scope): Finding[] {
  return CHECKS.flatMap((c) => c.run(scope)).sort(bySeverity);
}
