import { UsageError } from "../../errors.js";
import { DEFAULT_SERVER_PORT, resolveServerOptions, startEchoServer } from "../../server/server.js";
import { type Command, intFlag, parseFlags } from "../args.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const serveCommand: Command = {
  name: "serve",
  summary: "run one Echo server (with grpc.health.v1 and reflection)",
  usage: `Usage: grpc-lb serve [options]

Runs one lbdemo.v1.Echo server. Every reply carries this instance's id, host
name and address. grpc.health.v1.Health and server reflection are served too.

Options:
  --host HOST            address to bind (default 127.0.0.1; 0.0.0.0 in containers)
  --port PORT            port to bind, 0 for any free one (default ${DEFAULT_SERVER_PORT})
  --id UUID              instance id (default: a random UUID)
  --grace-ms MS          on SIGTERM/SIGINT, how long in-flight calls may finish (default 10000)
  --max-message-bytes N  largest request accepted; larger get RESOURCE_EXHAUSTED (default 4194304)
  -h, --help             show this help

Once listening it prints one JSON line on stdout:
  {"event":"ready","id":"…","address":"HOST:PORT","pid":…}
On SIGTERM/SIGINT it reports NOT_SERVING, refuses new calls, finishes in-flight
calls within --grace-ms, prints {"event":"stopped",…} and exits 0.
`,
  async run(argv, ctx) {
    const { values } = parseFlags("serve", argv, {
      host: { type: "string" },
      port: { type: "string" },
      id: { type: "string" },
      "grace-ms": { type: "string" },
      "max-message-bytes": { type: "string" },
    });
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    if (values.id !== undefined && !UUID.test(values.id)) {
      throw new UsageError(`grpc-lb serve: --id must be a UUID, got '${values.id}'`);
    }
    if (values.host !== undefined && values.host.trim() === "") {
      throw new UsageError("grpc-lb serve: --host must not be empty");
    }
    const options = resolveServerOptions({
      host: values.host,
      port: intFlag("serve", "port", values.port, { min: 0, max: 65535 }),
      id: values.id?.toLowerCase(),
      graceMs: intFlag("serve", "grace-ms", values["grace-ms"], { min: 0, max: 600_000 }),
      maxMessageBytes: intFlag("serve", "max-message-bytes", values["max-message-bytes"], {
        min: 1024,
        max: 256 * 1024 * 1024,
      }),
    });
    const server = await startEchoServer(options);
    ctx.stdout(
      `${JSON.stringify({ event: "ready", id: server.id, address: server.address, host: server.host, port: server.port, pid: process.pid })}\n`,
    );
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    const started = Date.now();
    const outcome = await server.stop();
    ctx.stdout(
      `${JSON.stringify({ event: "stopped", id: server.id, outcome, drainMs: Date.now() - started })}\n`,
    );
    return 0;
  },
};
