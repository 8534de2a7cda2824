import type { Check } from "./checks/check.js";
import { CHECKS } from "./checks/registry.js";
import { bySeverity, type Finding } from "./finding.js";
import type { Scope } from "./scope.js";

export type { Check };
export { CHECKS };

/** Runs every check on the scope: findings, errors first. */
export function runChecks(scope: Scope): Finding[] {
  return CHECKS.flatMap((c) => {
    const findings = c.run(scope);
    if (!c.assumesGrpc || scope.evidence !== "none") return findings;
    return findings.map((f) => (f.severity === "error" ? { ...f, severity: "warning" as const } : f));
  }).sort(bySeverity);
}
