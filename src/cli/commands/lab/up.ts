import { isCtrlC } from "../../../errors.js";
import { SERVER_NAME, startLabCluster } from "../../../lab/cluster.js";
import { resolveLabOptions } from "../../../lab/options.js";
import { isCheckout } from "../../../paths.js";
import { formatHostPort } from "../../../util/address.js";
import { parseFlags } from "../../args.js";
import { CLUSTER_FLAGS, CLUSTER_FLAGS_USAGE, clusterOptions } from "./cluster-flags.js";
import { type LabSubcommand, progress } from "./subcommand.js";

export const labUp: LabSubcommand = {
  name: "up",
  summary: "start it and keep it running until Ctrl-C (SIGINT/SIGTERM)",
  usage: `Usage: grpc-lb lab up [options]

Starts the local cluster and keeps it up: Envoy on 127.0.0.1:10000, its admin
API on 127.0.0.1:9901, until Ctrl-C (exit 130) or SIGTERM/SIGHUP (exit 0).
Envoy (or the L4 proxy) dying takes the lab down with it (exit 1).

Options:
${CLUSTER_FLAGS_USAGE.replace("(default: any free port)", "(default 10000)").replace("(default: any free port)", "(default 9901)")}
  -h, --help             show this help
`,
  async run(argv, ctx) {
    const { values } = parseFlags("lab up", argv, CLUSTER_FLAGS);
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const options = clusterOptions("lab up", values, { listenPort: 10000, adminPort: 9901 });
    const lab = await startLabCluster(resolveLabOptions(options), progress(ctx), ctx.signal);
    const trust = lab.tls === undefined ? "" : ` --cacert ${lab.tls.caFile}`;
    const eds = lab.topology.envoyEds();
    ctx.stdout(
      `Envoy listener: ${lab.listenAddress}${lab.tls === undefined ? "" : ` (${lab.tls.kind === "mtls" ? "TLS; servers require mTLS" : lab.tls.kind === "downstream" ? "TLS; servers plaintext" : "TLS"})`}\nEnvoy admin:    http://${lab.envoy.adminAddress}\n` +
        (lab.tls === undefined ? "" : `CA to trust:    ${lab.tls.caFile}\n`) +
        (eds === undefined
          ? ""
          : `xDS server:     ${formatHostPort(eds.xdsAddress, eds.xdsPort)} (ADS, state of the world: Listener, Route, Cluster and endpoints of '${SERVER_NAME}')\n`) +
        `Try: ${isCheckout() ? "./bin/grpc-lb" : "grpc-lb"} load --target ${lab.listenAddress}${trust}\nPress Ctrl-C to stop.\n`,
    );
    const proxies = [lab.envoy, ...lab.topology.proxies()];
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      // Envoy (or the L4 proxy) dying takes the lab down with it, loudly. A server dying does not:
      // routing around it is what the lab is for.
      for (const proxy of proxies) proxy.process.exited.then(() => resolve());
    });
    const dead = proxies.find((p) => p.process.state().t === "exited");
    const died = dead !== undefined && !ctx.signal.aborted;
    await lab.stop(died ? `${dead.process.name} exited` : "signal received");
    if (died) {
      ctx.stderr(`grpc-lb: lab: ${dead.process.name} exited unexpectedly:\n${dead.process.stderrTail()}\n`);
      return 1;
    }
    return isCtrlC(ctx.signal) ? 130 : 0;
  },
};
