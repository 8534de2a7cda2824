/**
 * Errors of grpc-envoy-lb. Each area has its own class so a message always
 * says where it came from ("lab: envoy exited with code 1 before ready: …"),
 * and every class keeps the original error as `cause`.
 */

export type Area =
  | "usage"
  | "server"
  | "load"
  | "grpc"
  | "envoy"
  | "dns"
  | "lab"
  | "process"
  | "peer"
  | "engine"
  | "doctor"
  | "tls"
  | "xds";

export class GrpcLbError extends Error {
  override name = "GrpcLbError";
  readonly area: Area;

  constructor(area: Area, message: string, options?: ErrorOptions) {
    super(area === "usage" ? message : `${area}: ${message}`, options);
    this.area = area;
  }
}

/** Wrong flags or arguments: the CLI prints the message and exits with code 2. */
export class UsageError extends GrpcLbError {
  override name = "UsageError";
  constructor(message: string, options?: ErrorOptions) {
    super("usage", message, options);
  }
}

export class ServerError extends GrpcLbError {
  override name = "ServerError";
  constructor(message: string, options?: ErrorOptions) {
    super("server", message, options);
  }
}

export class LoadError extends GrpcLbError {
  override name = "LoadError";
  constructor(message: string, options?: ErrorOptions) {
    super("load", message, options);
  }
}

/** A gRPC method could not be described: reflection failed, or the server could not be reached for it. */
export class GrpcError extends GrpcLbError {
  override name = "GrpcError";
  constructor(message: string, options?: ErrorOptions) {
    super("grpc", message, options);
  }
}

export class EnvoyError extends GrpcLbError {
  override name = "EnvoyError";
  constructor(message: string, options?: ErrorOptions) {
    super("envoy", message, options);
  }
}

export class DnsError extends GrpcLbError {
  override name = "DnsError";
  constructor(message: string, options?: ErrorOptions) {
    super("dns", message, options);
  }
}

/** The admin API given to `grpc-lb doctor` is not an Envoy's, or does not answer: exit 2. */
export class DoctorError extends GrpcLbError {
  override name = "DoctorError";
  constructor(message: string, options?: ErrorOptions) {
    super("doctor", message, options);
  }
}

export class LabError extends GrpcLbError {
  override name = "LabError";
  constructor(message: string, options?: ErrorOptions) {
    super("lab", message, options);
  }
}

/** A container engine (Docker Compose, Kubernetes) refused or failed a step. */
export class EngineError extends GrpcLbError {
  override name = "EngineError";
  constructor(message: string, options?: ErrorOptions) {
    super("engine", message, options);
  }
}

/** Certificates: one could not be made, written, read, or does not fit its key or its CA. */
export class TlsError extends GrpcLbError {
  override name = "TlsError";
  constructor(message: string, options?: ErrorOptions) {
    super("tls", message, options);
  }
}

/** HAProxy or nginx, the balancing layers measured beside Envoy: missing, invalid config, did not come up. */
export class PeerError extends GrpcLbError {
  override name = "PeerError";
  constructor(message: string, options?: ErrorOptions) {
    super("peer", message, options);
  }
}

/** The xDS server: it could not bind, load Envoy's protos, or was given resources it cannot encode. */
export class XdsError extends GrpcLbError {
  override name = "XdsError";
  constructor(message: string, options?: ErrorOptions) {
    super("xds", message, options);
  }
}

export class ProcessError extends GrpcLbError {
  override name = "ProcessError";
  constructor(message: string, options?: ErrorOptions) {
    super("process", message, options);
  }
}

/**
 * Why a command's signal was aborted: the process got SIGINT, SIGTERM or SIGHUP.
 * A command tells Ctrl-C (exit 130) from a supervisor's SIGTERM by `signal`.
 */
export class InterruptedError extends Error {
  override name = "InterruptedError";
  constructor(readonly signal: NodeJS.Signals) {
    super(`received ${signal}`);
  }
}

/** True when the signal was aborted by Ctrl-C (SIGINT). */
export const isCtrlC = (signal: AbortSignal): boolean =>
  signal.aborted && signal.reason instanceof InterruptedError && signal.reason.signal === "SIGINT";

/** The message of anything thrown, without assuming it is an Error. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Wraps whatever was caught into the area's error class, keeping it as cause. */
export function errorFrom<E extends GrpcLbError>(
  make: new (message: string, options?: ErrorOptions) => E,
  e: unknown,
  context?: string,
): E {
  if (e instanceof make && context === undefined) return e;
  const inner = e instanceof GrpcLbError ? e.message : messageOf(e);
  return new make(context === undefined ? inner : `${context}: ${inner}`, { cause: e });
}
