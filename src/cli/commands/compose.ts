import { healthCaller } from "../../doctor/live.js";
import { openComposeCluster } from "../../engines/compose/cluster.js";
import { composeScenarios } from "../../engines/compose/scenarios/registry.js";
import {
  COMPOSE_SCENARIO_NAMES,
  type ComposeScenarioReport,
  PLAINTEXT_SCENARIO_NAMES,
  TLS_SCENARIO_NAMES,
} from "../../engines/compose/scenarios/scenario.js";
import { ENGINE_LOAD } from "../../engines/load.js";
import { engineReport } from "../../engines/report.js";
import { EngineError, messageOf, UsageError } from "../../errors.js";
import { formatScenarioReport } from "../../scenarios/report.js";
import { runScenarioOn } from "../../scenarios/runner.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";
import { doctorAndPrint } from "./doctor.js";
import { showWatch, WATCH_FLAGS, WATCH_USAGE, watchDuring, watchFlags } from "./watch.js";

const DEFAULT_ENVOY_PORT = 10000;

export const composeCommand: Command = {
  name: "compose",
  summary: "day-two scenarios on the running Docker Compose cluster",
  usage: `Usage: grpc-lb compose scenario NAME|all [options]
       grpc-lb compose doctor [options]
       grpc-lb compose watch [watch options]

Runs a fault or scaling scenario on the Docker Compose cluster that
'make docker-cluster' started (project grpc-envoy-lb, deploy/compose/compose.yaml),
under a steady load through Envoy's published listener (200 calls/s over one
channel, at most 8 in flight, bounded to 150 s and 30 000 calls). It prints a
verdict and leaves the cluster as it found it (3 replicas).

  kill          docker kill (SIGKILL) one of 3 replicas, then docker start it
  stop          docker stop (SIGTERM, drain) one replica, then docker start it
  pause         docker pause one replica, then docker unpause it
  disconnect    docker network disconnect one replica, then connect it again
  scale         docker compose up --scale server=6, then server=2, then back to 3
  envoy-reload  Envoy's hot restart in its container into least_request (SIGHUP to
                its restarter), then back to the mounted config
  streams       30 long-lived Subscribe streams, each ending after 6 s (the lifetime
                it asks the server for) and resuming from its last sequence number:
                --scale server=6, then docker stop one, then back to 3; each phase
                must reach every replica's fair share in time, with nothing lost
  cert-rotation on the TLS variant (make docker-cluster TLS=1) only: rotate Envoy's
                listener certificate, the servers', Envoy's client certificate, then
                the CA with an overlap (ca, leaves, retire-old-ca), by writing the next
                versions of the mounted certificate set as 'grpc-lb certs --rotate' does;
                before and after, every replica must refuse a client without Envoy's
                certificate
  all           each of them in turn but cert-rotation (the plaintext variant's)

The others run on the plaintext variant. Each checks: no failed call, Envoy
stops routing to a lost replica within the budget that follows from the timings
in deploy/compose/envoy.yaml, and a new or returning replica gets calls within
its budget. Envoy's admin API is read through
a short-lived relay container in Envoy's network namespace (it is never published).
Which variant runs is read from Envoy's container: the TLS one mounts a certificate
set at /etc/envoy/certs, and then every call goes over TLS trusting its current/ca.crt.

'doctor' runs grpc-lb doctor on the Compose cluster's Envoy (its admin API through
the relay) with live health-check calls through the published listener.

'watch' runs grpc-lb watch on the Compose cluster's Envoy through the relay: every
replica live, its calls per second, share, errors and health (see grpc-lb watch --help).

Options:
  --port PORT   the port Envoy's listener is published on, on 127.0.0.1
                (default: $ENVOY_PORT, else ${DEFAULT_ENVOY_PORT}, as in compose.yaml)
  --json        print each report as one JSON object per line (progress goes to stderr)
  --watch       with scenario: show Envoy's hosts live on stderr while each runs, as
                'compose watch' does

Watch options:
${WATCH_USAGE}
  -h, --help    show this help

Exit code: 0 every scenario passed, 1 one failed (or the cluster is not up), 2 usage,
130 interrupted (Ctrl-C; the replica is put back).
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "compose",
      argv,
      { port: { type: "string" }, json: { type: "boolean" }, watch: { type: "boolean" }, ...WATCH_FLAGS },
      true,
    );
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const [sub, name, ...extra] = positionals;
    const watching = sub === "watch";
    const given = Object.keys(WATCH_FLAGS).filter((k) => values[k as keyof typeof WATCH_FLAGS] !== undefined);
    if (!watching && given.length > 0)
      throw new UsageError(`grpc-lb compose: --${given[0]} goes with 'compose watch' only`);
    if (values.watch && sub !== "scenario")
      throw new UsageError("grpc-lb compose: --watch goes with 'compose scenario' only");
    if (watching) {
      if (name !== undefined) throw new UsageError("grpc-lb compose watch: takes no argument");
      const flags = watchFlags("compose watch", values);
      const cluster = await openComposeCluster(portOf(values.port), ctx.signal);
      try {
        ctx.stderr(
          `compose: watching Envoy's admin API through a relay at ${cluster.target.admin.address}\n`,
        );
        await showWatch([cluster.target.admin.address], flags, ctx);
        return 0;
      } finally {
        await cluster.close();
      }
    }
    if (sub === "doctor") {
      if (name !== undefined) throw new UsageError("grpc-lb compose doctor: takes no argument");
      const cluster = await openComposeCluster(portOf(values.port), ctx.signal);
      try {
        const listener = cluster.target.listenAddress;
        return await doctorAndPrint(
          {
            admin: cluster.target.admin,
            live: { listener, caller: healthCaller(listener, cluster.target.tls), deadlineMs: 2000 },
            signal: ctx.signal,
          },
          values.json === true,
          ctx,
        );
      } finally {
        await cluster.close();
      }
    }
    if (sub !== "scenario") {
      throw new UsageError(
        `grpc-lb compose: ${sub === undefined ? "name a subcommand" : `unknown subcommand '${sub}'`}: 'scenario NAME', 'doctor' or 'watch' (see grpc-lb compose --help)`,
      );
    }
    const choices = [...COMPOSE_SCENARIO_NAMES, "all"] as const;
    const chosen = choiceFlag("compose scenario", "scenario", name, choices);
    if (chosen === undefined || extra.length > 0) {
      throw new UsageError(
        `grpc-lb compose scenario: name one of ${choices.join(", ")} (see grpc-lb compose --help)`,
      );
    }
    const port = portOf(values.port);
    const names = chosen === "all" ? PLAINTEXT_SCENARIO_NAMES : [chosen];
    const cluster = await openComposeCluster(port, ctx.signal);
    const reports: ComposeScenarioReport[] = [];
    try {
      const needsTls = names.filter((n) => TLS_SCENARIO_NAMES.includes(n));
      if (cluster.tls === undefined && needsTls.length > 0) {
        throw new EngineError(
          `compose: scenario ${needsTls.join(", ")} needs the TLS variant, and the running cluster is plaintext: ` +
            "restart it with 'make docker-down docker-cluster TLS=1'",
        );
      }
      if (cluster.tls !== undefined && needsTls.length < names.length) {
        throw new EngineError(
          `compose: scenario ${chosen} runs on the plaintext variant, and the running cluster is the TLS one ` +
            `(certificates from ${cluster.tls.certsDir}): restart it with 'make docker-down docker-cluster'`,
        );
      }
      ctx.stderr(
        `compose: Envoy on ${cluster.target.listenAddress}${cluster.tls === undefined ? "" : " (TLS)"}, admin through a relay at ${cluster.target.admin.address}; ${cluster.timings}\n`,
      );
      for (const n of names) {
        ctx.stderr(`compose: scenario ${n}: ${composeScenarios[n].summary}\n`);
        // One signal per scenario, so listeners left on it do not pile up over `all`.
        const scoped = new AbortController();
        const forward = (): void => scoped.abort(ctx.signal.reason);
        if (ctx.signal.aborted) forward();
        ctx.signal.addEventListener("abort", forward, { once: true });
        const shown = values.watch ? watchDuring(cluster.target.admin.address, ctx) : undefined;
        const report = engineReport(
          await runScenarioOn(composeScenarios[n], cluster, cluster.target, scoped.signal, {
            bounds: ENGINE_LOAD,
            errors: EngineError,
          }).finally(async () => {
            ctx.signal.removeEventListener("abort", forward);
            await shown?.stop();
          }),
          n,
          cluster.target.engine,
          cluster.timings,
        );
        reports.push(report);
        ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
      }
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      throw e instanceof EngineError
        ? e
        : new EngineError(`compose: scenario failed: ${messageOf(e)}`, { cause: e });
    } finally {
      await cluster.close();
    }
    return reports.every((r) => r.verdict === "pass") ? 0 : 1;
  },
};

/** --port, else $ENVOY_PORT, else compose.yaml's default. */
function portOf(flag: string | undefined): number {
  return (
    intFlag("compose", "port", flag, { min: 1, max: 65535 }) ??
    intFlag("compose", "port (from ENVOY_PORT)", process.env.ENVOY_PORT, { min: 1, max: 65535 }) ??
    DEFAULT_ENVOY_PORT
  );
}
