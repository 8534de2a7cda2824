import { certRotation } from "./cert-rotation.js";
import { discovery } from "./discovery.js";
import { dnsOutage } from "./dns-outage.js";
import { drain } from "./drain.js";
import { envoyFreeze } from "./envoy-freeze.js";
import { envoyReload } from "./envoy-reload.js";
import { envoyRestart } from "./envoy-restart.js";
import { failover } from "./failover.js";
import type { LabScenario } from "./lab-scenario.js";
import { many } from "./many.js";
import { scale } from "./scale.js";
import { streams } from "./streams.js";
import { xdsRestart } from "./xds-restart.js";

export const SCENARIO_NAMES = [
  "failover",
  "scale",
  "drain",
  "dns-outage",
  "many",
  "envoy-reload",
  "envoy-restart",
  "envoy-freeze",
  "cert-rotation",
  "discovery",
  "streams",
  "xds-restart",
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

// A record over every name: a scenario missing here is a compile error.
export const scenarios: Record<ScenarioName, LabScenario> = {
  failover,
  scale,
  drain,
  "dns-outage": dnsOutage,
  many,
  "envoy-reload": envoyReload,
  "envoy-restart": envoyRestart,
  "envoy-freeze": envoyFreeze,
  "cert-rotation": certRotation,
  discovery,
  streams,
  "xds-restart": xdsRestart,
};
