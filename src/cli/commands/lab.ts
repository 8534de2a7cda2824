import { LB_POLICIES } from "../../envoy/options.js";
import { UsageError } from "../../errors.js";
import { formatBench, runBench } from "../../lab/bench.js";
import { startLabCluster } from "../../lab/cluster.js";
import { formatLabEvent } from "../../lab/events.js";
import {
  DEFAULT_VIRTUAL_IP,
  DISCOVERY_KINDS,
  type Discovery,
  MAX_LAB_SERVERS,
  resolveLabOptions,
} from "../../lab/options.js";
import { runLab } from "../../lab/run.js";
import { formatScenarioReport, SCENARIO_NAMES } from "../../lab/scenarios/report.js";
import { runScenario } from "../../lab/scenarios/run.js";
import { formatReportText } from "../../loadgen/format-text.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";

export const labCommand: Command = {
  name: "lab",
  summary: "the local cluster: DNS + N servers + a real Envoy on loopback",
  usage: `Usage: grpc-lb lab [up] [options]

Runs the whole system on this machine with no Docker: a small DNS server that
answers 'server' with one A record per server, N Echo servers each on its own
loopback address (127.77.0.x, one shared port), and Envoy discovering them by
DNS and balancing every request.

  grpc-lb lab       start it, send the load through Envoy, print who answered, stop
  grpc-lb lab up    start it and keep it running until Ctrl-C (SIGINT/SIGTERM)
  grpc-lb lab bench start it and measure calls/s and latency straight to one
                    server vs through Envoy, at concurrency 1, 8 and 32 (-n calls each)
  grpc-lb lab scenario NAME
                    start it, keep load running through Envoy while the cluster
                    changes, print a verdict (exit 0 pass, 1 fail); NAME is one of
                    ${SCENARIO_NAMES.join(", ")}

Options:
  --servers N            number of servers, 1-${MAX_LAB_SERVERS} (default 3)
  -n, --requests N       calls to send (default 100; not with 'up')
  -c, --concurrency N    calls in flight at once over one channel (default 1; not with 'up')
  --policy P             ${LB_POLICIES.join(" | ")} (default round_robin)
  --discovery D          headless: DNS answers 'server' with every server's address,
                         as a compose service or a headless Service (default);
                         clusterip: DNS answers one virtual IP (${DEFAULT_VIRTUAL_IP}) behind
                         a connection balancer (Envoy tcp_proxy standing in for
                         kube-proxy), as a ClusterIP Service: one server gets everything
  --listen-port PORT     Envoy's gRPC listener on 127.0.0.1 (default: any free port; 10000 with 'up')
  --admin-port PORT      Envoy's admin API on 127.0.0.1 (default: any free port; 9901 with 'up')
  --server-port PORT     port all servers share (default: any free port)
  --dns-refresh-ms MS    how often Envoy re-resolves 'server' (default 1000)
  --json                 print the load report as one JSON object (progress goes to stderr)
  -h, --help             show this help

Everything started is stopped at the end, on Ctrl-C, and when any part fails
to start (whose error is shown). Envoy comes from ENVOY_BIN, PATH, or .tools/
(see 'make setup').
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "lab",
      argv,
      {
        servers: { type: "string" },
        requests: { type: "string", short: "n" },
        concurrency: { type: "string", short: "c" },
        policy: { type: "string" },
        discovery: { type: "string" },
        "listen-port": { type: "string" },
        "admin-port": { type: "string" },
        "server-port": { type: "string" },
        "dns-refresh-ms": { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const [sub, ...extra] = positionals;
    if (sub === "bench" || sub === "scenario") {
      // These set up their own cluster: a flag that would be ignored is refused instead.
      const allowed = sub === "bench" ? ["requests", "json"] : ["policy", "json"];
      const ignored = Object.keys(values).filter((k) => k !== "help" && !allowed.includes(k));
      if (ignored.length > 0) {
        throw new UsageError(
          `grpc-lb lab ${sub}: --${ignored.join(", --")} cannot be used here (it takes ${allowed.map((a) => `--${a}`).join(", ")})`,
        );
      }
    }
    if (sub === "bench") {
      if (extra.length > 0)
        throw new UsageError("grpc-lb lab bench: takes no argument (see grpc-lb lab --help)");
      const result = await runBench(
        {
          ...(values.requests
            ? { requests: intFlag("lab", "requests", values.requests, { min: 1, max: 1_000_000 }) }
            : {}),
        },
        (e) => ctx.stderr(`${formatLabEvent(e)}\n`),
        ctx.signal,
      );
      ctx.stdout(values.json ? `${JSON.stringify(result)}\n` : formatBench(result));
      return result.rows.every((r) => r.failed === 0) ? 0 : 1;
    }
    if (sub === "scenario") {
      const name = choiceFlag("lab scenario", "scenario", extra[0], SCENARIO_NAMES);
      if (name === undefined || extra.length > 1) {
        throw new UsageError(
          `grpc-lb lab scenario: name one of ${SCENARIO_NAMES.join(", ")} (see grpc-lb lab --help)`,
        );
      }
      const report = await runScenario(
        name,
        { ...(values.policy ? { policy: choiceFlag("lab", "policy", values.policy, LB_POLICIES) } : {}) },
        (e) => ctx.stderr(`${formatLabEvent(e)}\n`),
        ctx.signal,
      );
      ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
      return report.verdict === "pass" ? 0 : 1;
    }
    if ((sub !== undefined && sub !== "up") || extra.length > 0) {
      throw new UsageError(
        `grpc-lb lab: unknown subcommand '${positionals.join(" ")}' (see grpc-lb lab --help)`,
      );
    }
    const up = sub === "up";
    if (up && (values.requests !== undefined || values.concurrency !== undefined || values.json)) {
      throw new UsageError(
        "grpc-lb lab up: --requests, --concurrency and --json belong to a load run, not to 'up'",
      );
    }
    const port = (name: string, v: string | undefined) => intFlag("lab", name, v, { min: 0, max: 65535 });
    const discoveryKind = choiceFlag("lab", "discovery", values.discovery, DISCOVERY_KINDS);
    const discovery: Discovery =
      discoveryKind === "clusterip"
        ? { kind: "clusterip", virtualIp: DEFAULT_VIRTUAL_IP }
        : { kind: "headless" };
    const options = {
      discovery,
      servers: intFlag("lab", "servers", values.servers, { min: 1, max: MAX_LAB_SERVERS }),
      policy: choiceFlag("lab", "policy", values.policy, LB_POLICIES),
      listenPort: port("listen-port", values["listen-port"]) ?? (up ? 10000 : 0),
      adminPort: port("admin-port", values["admin-port"]) ?? (up ? 9901 : 0),
      serverPort: port("server-port", values["server-port"]),
      dnsRefreshMs: intFlag("lab", "dns-refresh-ms", values["dns-refresh-ms"], { min: 1, max: 3_600_000 }),
    };
    const onEvent = (e: Parameters<typeof formatLabEvent>[0]) => ctx.stderr(`${formatLabEvent(e)}\n`);

    if (up) {
      const cluster = await startLabCluster(resolveLabOptions(options), onEvent, ctx.signal);
      ctx.stdout(
        `Envoy listener: ${cluster.listenAddress}\nEnvoy admin:    http://${cluster.envoy.adminAddress}\n` +
          `Try: ./bin/grpc-lb load --target ${cluster.listenAddress}\nPress Ctrl-C to stop.\n`,
      );
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener("abort", () => resolve(), { once: true });
        // Envoy (or the L4 proxy) dying takes the lab down with it, loudly. A server dying does not:
        // routing around it is what the lab is for.
        for (const proxy of [cluster.envoy, cluster.l4Proxy]) proxy?.process.exited.then(() => resolve());
      });
      const dead = [cluster.envoy, cluster.l4Proxy].find((p) => p?.process.state().t === "exited");
      const died = dead !== undefined && !ctx.signal.aborted;
      await cluster.stop(died ? `${dead.process.name} exited` : "signal received");
      if (died) {
        ctx.stderr(`grpc-lb: lab: ${dead.process.name} exited unexpectedly:\n${dead.process.stderrTail()}\n`);
        return 1;
      }
      return 0;
    }

    const report = await runLab(
      {
        ...options,
        requests: intFlag("lab", "requests", values.requests, { min: 1, max: 10_000_000 }),
        concurrency: intFlag("lab", "concurrency", values.concurrency, { min: 1, max: 10_000 }),
      },
      onEvent,
      ctx.signal,
    );
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatReportText(report));
    if (report.interrupted) return 130;
    return report.requests.failed === 0 && report.requests.ok > 0 ? 0 : 1;
  },
};
