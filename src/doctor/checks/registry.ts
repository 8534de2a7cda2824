import { adminExposed } from "./admin-exposed.js";
import type { Check } from "./check.js";
import { dnsRefreshSlow } from "./dns-refresh-slow.js";
import { dnsRespectTtl } from "./dns-respect-ttl.js";
import { edsHealthFromControlPlane } from "./eds-health-from-control-plane.js";
import { edsHealthWithoutHostRemoval } from "./eds-health-without-host-removal.js";
import { hashWithoutKey } from "./hash-without-key.js";
import { healthWithoutHostRemoval } from "./health-without-host-removal.js";
import { hostsDraining } from "./hosts-draining.js";
import { hostsUnhealthy } from "./hosts-unhealthy.js";
import { httpHealthCheck } from "./http-health-check.js";
import { initialFetchTimeout } from "./initial-fetch-timeout.js";
import { logicalDns } from "./logical-dns.js";
import { maxStreamDuration } from "./max-stream-duration.js";
import { noHealthCheck } from "./no-health-check.js";
import { noHosts } from "./no-hosts.js";
import { noHttp2 } from "./no-http2.js";
import { noMaxConnectionDuration } from "./no-max-connection-duration.js";
import { noRetry } from "./no-retry.js";
import { oneHost } from "./one-host.js";
import { originalDst } from "./original-dst.js";
import { outlier5xx } from "./outlier-5xx.js";
import { panicHidesEjection } from "./panic-hides-ejection.js";
import { retryNoBudget } from "./retry-no-budget.js";
import { retryNoPerTryTimeout } from "./retry-no-per-try-timeout.js";
import { routeIdleTimeout } from "./route-idle-timeout.js";
import { routeTimeout } from "./route-timeout.js";
import { streamIdleTimeout } from "./stream-idle-timeout.js";
import { streamsPinned } from "./streams-pinned.js";
import { tcpProxy } from "./tcp-proxy.js";
import { tlsCertExpiring } from "./tls-cert-expiring.js";
import { tlsDownstreamAlpn } from "./tls-downstream-alpn.js";
import { tlsHealthPanic } from "./tls-health-panic.js";
import { tlsHttp1 } from "./tls-http1.js";
import { tlsInlineCerts } from "./tls-inline-certs.js";
import { tlsNoNameCheck } from "./tls-no-name-check.js";
import { tlsSecretNotLoaded } from "./tls-secret-not-loaded.js";
import { tlsSniPerHost } from "./tls-sni-per-host.js";
import { tlsUpstreamAlpn } from "./tls-upstream-alpn.js";

/** Every check of the configuration, in the order findings are listed within a severity. */
export const CHECKS: readonly Check[] = [
  logicalDns,
  originalDst,
  noHosts,
  oneHost,
  noHttp2,
  hashWithoutKey,
  dnsRefreshSlow,
  dnsRespectTtl,
  outlier5xx,
  noHealthCheck,
  httpHealthCheck,
  healthWithoutHostRemoval,
  edsHealthWithoutHostRemoval,
  edsHealthFromControlPlane,
  initialFetchTimeout,
  panicHidesEjection,
  hostsUnhealthy,
  hostsDraining,
  streamsPinned,
  noRetry,
  retryNoPerTryTimeout,
  retryNoBudget,
  routeTimeout,
  routeIdleTimeout,
  streamIdleTimeout,
  maxStreamDuration,
  noMaxConnectionDuration,
  adminExposed,
  tcpProxy,
  tlsUpstreamAlpn,
  tlsDownstreamAlpn,
  tlsHttp1,
  tlsHealthPanic,
  tlsNoNameCheck,
  tlsSniPerHost,
  tlsSecretNotLoaded,
  tlsInlineCerts,
  tlsCertExpiring,
];
