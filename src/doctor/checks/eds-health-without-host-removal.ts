import type { Check } from "./check.js";
import { withoutHostRemoval } from "./health-without-host-removal.js";

export const edsHealthWithoutHostRemoval: Check = withoutHostRemoval(
  "eds-health-without-host-removal",
  "health checks on an EDS cluster without ignore_health_on_host_removal",
  (c) => c.kind === "EDS",
  "an endpoint the control plane removed stays a host while its health checks pass (pending_dynamic_removal), and keeps getting calls: a drained server that still answers its checks is not left",
);
