import { engineBudgets } from "../../envoy/budgets.js";
import { notRoutedTo as notRoutedToAddress } from "../../envoy/wait-hosts.js";
import { formatHostPort } from "../../util/address.js";
import type { ResolvedLabOptions } from "../options.js";
import type { LabServer } from "../servers.js";

export const addressOf = (s: LabServer): string => formatHostPort(s.host, s.port);

/** True once Envoy no longer routes to the server: its host is gone, or marked unhealthy. */
export const notRoutedTo = (s: LabServer) => notRoutedToAddress(addressOf(s));

/** Worst case for active health checks to notice a dead or draining host, in ms. */
export function detectionBudgetMs(o: ResolvedLabOptions): number {
  return o.envoy.healthCheck === false ? o.startTimeoutMs : engineBudgets(o.envoy).detectionMs;
}

/** Worst case for Envoy to drop a host that left DNS, in ms. */
export const removalBudgetMs = (o: ResolvedLabOptions): number => engineBudgets(o.envoy).removalMs;

/** Worst case for a host added to DNS to get traffic, in ms. */
export const joinBudgetMs = (o: ResolvedLabOptions): number => engineBudgets(o.envoy).joinMs;
