import { certRotation } from "./cert-rotation.js";
import { disconnect } from "./disconnect.js";
import { envoyReload } from "./envoy-reload.js";
import { kill } from "./kill.js";
import { pause } from "./pause.js";
import { scale } from "./scale.js";
import type { ComposeScenario, ComposeScenarioName } from "./scenario.js";
import { stop } from "./stop.js";
import { streams } from "./streams.js";

// A record over every name: a scenario missing here is a compile error.
export const composeScenarios: Record<ComposeScenarioName, ComposeScenario> = {
  kill,
  stop,
  pause,
  disconnect,
  scale,
  "envoy-reload": envoyReload,
  streams,
  "cert-rotation": certRotation,
};
