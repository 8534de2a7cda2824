import { K8S_NAMESPACE } from "../../deploy/presets.js";
import { envoyHostsReport } from "../../engines/k8s/hosts.js";
import { resolveKubeTarget } from "../../engines/k8s/kubectl.js";
import { K8S_SCENARIO_NAMES } from "../../engines/k8s/report.js";
import { runK8sScenario } from "../../engines/k8s/scenario.js";
import { k8sScenarios } from "../../engines/k8s/scenarios/registry.js";
import { UsageError } from "../../errors.js";
import { formatScenarioReport } from "../../scenarios/report.js";
import { SCENARIO_RATE_PER_SEC } from "../../scenarios/scenario-load.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";

export const k8sCommand: Command = {
  name: "k8s",
  summary: "day-two operations under load on the Kubernetes deployment (deploy/k8s)",
  usage: `Usage: grpc-lb k8s scenario NAME [options]
       grpc-lb k8s envoy-hosts [--wait-ms MS] [options]

Runs one day-two operation on the deployment of deploy/k8s (make k8s-cluster)
while a steady load (${SCENARIO_RATE_PER_SEC} calls/s over one channel) goes through Envoy, reached by
kubectl port-forward to the Envoy pod (its admin API too), and prints a verdict
(exit 0 pass, 1 fail) with the measured times. The envoy-* operations take the
Envoy pods themselves away: their load runs in a pod of its own instead, through
the envoy Service, as any client in the cluster. NAME is one of:
  rollout           kubectl rollout restart deployment/server
  scale             kubectl scale deployment/server 3 → 6 → 2 (then back to 3)
  delete-pod        kubectl delete pod of one server
  envoy-restart     kubectl rollout restart deployment/envoy
  envoy-delete-pod  kubectl delete pod of one Envoy
  envoy-scale       kubectl scale deployment/envoy 2 → 3 → 2

'envoy-hosts' checks that Envoy's server cluster routes to exactly what the server
Service answers, every host healthy: each ready pod's IP when it is headless, its
cluster IP otherwise (waiting up to --wait-ms, default 0); it prints the hosts.

The cluster is the local one of 'make k8s-local-up' when .tools/k8s-local/kubeconfig
exists, otherwise kubectl's current context.

Options:
  --wait-ms MS     envoy-hosts: how long to wait for a match (default 0)
  --namespace NS   the namespace of the deployment (default ${K8S_NAMESPACE})
  --json           print the report as one JSON object (progress goes to stderr)
  -h, --help       show this help
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "k8s",
      argv,
      { namespace: { type: "string" }, json: { type: "boolean" }, "wait-ms": { type: "string" } },
      true,
    );
    if (values.help) {
      ctx.stdout(this.usage);
      return 0;
    }
    const [sub, nameArg, ...extra] = positionals;
    const namespace = values.namespace ?? K8S_NAMESPACE;
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
      throw new UsageError(
        `grpc-lb k8s: --namespace must be a Kubernetes namespace name, got '${namespace}'`,
      );
    }
    if (sub === "envoy-hosts") {
      if (nameArg !== undefined) throw new UsageError("grpc-lb k8s envoy-hosts: takes no argument");
      const waitMs = intFlag("k8s", "wait-ms", values["wait-ms"], { min: 0, max: 600_000 }) ?? 0;
      ctx.stdout(await envoyHostsReport(resolveKubeTarget(namespace), waitMs, ctx.signal));
      return 0;
    }
    if (sub !== "scenario") {
      throw new UsageError(
        `grpc-lb k8s: ${sub === undefined ? "name a subcommand" : `unknown subcommand '${sub}'`}: scenario, envoy-hosts (see grpc-lb k8s --help)`,
      );
    }
    if (values["wait-ms"] !== undefined)
      throw new UsageError("grpc-lb k8s scenario: --wait-ms is for envoy-hosts");
    const name = choiceFlag("k8s scenario", "scenario", nameArg, K8S_SCENARIO_NAMES);
    if (name === undefined || extra.length > 0) {
      throw new UsageError(
        `grpc-lb k8s scenario: name one of ${K8S_SCENARIO_NAMES.join(", ")} (see grpc-lb k8s --help)`,
      );
    }
    const report = await runK8sScenario(
      k8sScenarios[name],
      resolveKubeTarget(namespace),
      (text) => ctx.stderr(`k8s: ${text}\n`),
      ctx.signal,
    );
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
    return report.verdict === "pass" ? 0 : 1;
  },
};
