import type { K8sScenarioName } from "../report.js";
import type { K8sScenario } from "../scenario.js";
import { certRotation } from "./cert-rotation.js";
import { deletePod } from "./delete-pod.js";
import { envoyDeletePod, envoyRestart, envoyScale } from "./envoy-tier.js";
import { rollout } from "./rollout.js";
import { scale } from "./scale.js";
import { streams } from "./streams.js";
import { xdsDeletePod } from "./xds-tier.js";

// A record over every name: a scenario missing here is a compile error.
export const k8sScenarios: Record<K8sScenarioName, K8sScenario> = {
  rollout,
  scale,
  "delete-pod": deletePod,
  "envoy-restart": envoyRestart,
  "envoy-delete-pod": envoyDeletePod,
  "envoy-scale": envoyScale,
  "cert-rotation": certRotation,
  "xds-delete-pod": xdsDeletePod,
  streams,
};
