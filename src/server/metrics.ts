import { createServer, type Server as HttpServer } from "node:http";
import { ServerInterceptingCall, type ServerInterceptor, status } from "@grpc/grpc-js";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { ServerError } from "../errors.js";
import { formatHostPort } from "../util/address.js";

const STATUS_NAMES = new Map(
  Object.entries(status)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([name, code]) => [code, name]),
);

/**
 * A process's Prometheus metrics: every gRPC call its instances finish, by
 * method and status, and their latency. Calls to methods no service has
 * (answered UNIMPLEMENTED by grpc-js before any interceptor runs) are not seen.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly handled = new Counter({
    name: "grpc_server_handled_total",
    help: "gRPC calls finished by the server, by method and status",
    labelNames: ["grpc_service", "grpc_method", "grpc_code"] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from a call's start to its status, in seconds",
    labelNames: ["grpc_service", "grpc_method"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** A grpc-js server interceptor that counts and times every call. */
  readonly interceptor: ServerInterceptor = (method, call) => {
    const started = performance.now();
    const [, service = "", name = ""] = /^\/([^/]*)\/(.*)$/.exec(method.path) ?? [];
    return new ServerInterceptingCall(call, {
      sendStatus: (s, next) => {
        const labels = { grpc_service: service, grpc_method: name };
        this.handled.inc({ ...labels, grpc_code: STATUS_NAMES.get(s.code) ?? String(s.code) });
        this.latency.observe(labels, (performance.now() - started) / 1000);
        next(s);
      },
    });
  };

  /** Serves GET /metrics on host:port (0 picks a port); resolves with the bound port. */
  async listen(host: string, port: number): Promise<MetricsEndpoint> {
    const http: HttpServer = createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(e)}\n`),
      );
    });
    const bound = await new Promise<number>((resolve, reject) => {
      http.once("error", (e) =>
        reject(
          new ServerError(`cannot serve metrics on ${formatHostPort(host, port)}: ${e.message}`, {
            cause: e,
          }),
        ),
      );
      http.listen({ host, port }, () => {
        const a = http.address();
        resolve(typeof a === "object" && a !== null ? a.port : port);
      });
    });
    return {
      port: bound,
      close: () =>
        new Promise<void>((resolve) => {
          http.closeAllConnections();
          http.close(() => resolve());
        }),
    };
  }
}

export interface MetricsEndpoint {
  readonly port: number;
  close(): Promise<void>;
}
