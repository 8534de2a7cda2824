import { engineBudgets } from "../../envoy/budgets.js";
import { notRoutedTo as notRoutedToAddress } from "../../routing/wait-hosts.js";
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

/**
 * Slack on top of a configured timing for a certificate change to show on a new connection:
 * reading and checking the files, rebuilding the TLS context, and the probe's handshake.
 */
const ROTATION_SLACK_MS = 2000;

/**
 * Worst case for a rotated certificate to be served, in ms. Envoy follows the swap of
 * `current` by an inotify watch (no interval of its own); a server looks at its files every
 * tlsReloadMs, so it may see the swap a whole interval late.
 */
export const rotationBudgetsMs = (o: ResolvedLabOptions): { envoy: number; servers: number } => ({
  envoy: ROTATION_SLACK_MS,
  servers: o.tlsReloadMs + ROTATION_SLACK_MS,
});
