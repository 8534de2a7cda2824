import type { PeerDriver } from "./driver.js";
import { haproxyDriver } from "./haproxy/driver.js";
import { nginxDriver } from "./nginx/driver.js";
import type { PeerKind } from "./options.js";

/** One driver per peer: adding a peer is adding a folder and a line here. */
export const PEER_DRIVERS: Record<PeerKind, PeerDriver> = {
  haproxy: haproxyDriver,
  nginx: nginxDriver,
};
