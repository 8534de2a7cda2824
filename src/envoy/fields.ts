import type { Duration, SocketAddress } from "./types.js";

/** Milliseconds as a proto Duration string. */
export const duration = (ms: number): Duration => `${ms / 1000}s`;

/** An Envoy SocketAddress. */
export const socket = (address: string, port: number): SocketAddress => ({
  socket_address: { address, port_value: port },
});
