import { K8S_NAMESPACE } from "../../deploy/presets.js";
import { envoyHostsReport } from "../../engines/k8s/hosts.js";
import { resolveKubeTarget } from "../../engines/k8s/kubectl.js";
import { formatRefusals, mtlsRefusal } from "../../engines/k8s/mtls-refusal.js";
import { K8S_SCENARIO_NAMES } from "../../engines/k8s/report.js";
import { runK8sScenario } from "../../engines/k8s/scenario.js";
import { k8sScenarios } from "../../engines/k8s/scenarios/registry.js";
import { K8S_STREAMS_TIMINGS } from "../../engines/k8s/scenarios/streams-plan.js";
import { clusterClientTls } from "../../engines/k8s/tls-client.js";
import { applyTlsSecrets, K8S_CERTS_DIR } from "../../engines/k8s/tls-secrets.js";
import { UsageError } from "../../errors.js";
import { formatScenarioReport } from "../../scenarios/report.js";
import { SCENARIO_RATE_PER_SEC } from "../../scenarios/scenario-load.js";
import { type Command, choiceFlag, intFlag, parseFlags } from "../args.js";
import { doctorOnEveryEnvoy } from "./k8s-doctor.js";
import { K8S_WATCH_HELP, k8sWatch, k8sWatchDuring } from "./k8s-watch.js";
import { WATCH_FLAGS, WATCH_USAGE, watchFlags } from "./watch.js";

export const k8sCommand: Command = {
  name: "k8s",
  summary: "day-two operations under load on the Kubernetes deployment (deploy/k8s)",
  usage: `Usage: grpc-lb k8s scenario NAME [options]
       grpc-lb k8s envoy-hosts [--wait-ms MS] [options]
       grpc-lb k8s doctor [options]
       grpc-lb k8s secrets [--certs DIR] [options]
       grpc-lb k8s mtls-refusal [options]
       grpc-lb k8s watch [watch options] [--namespace NS]

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
  cert-rotation     (overlays/tls) update the Secrets: Envoy's listener, the servers',
                    Envoy's client certificate, then the CA (new CA trusted beside the
                    old, every leaf from it, the old one retired); new serials on the wire
  xds-delete-pod    (overlays/xds) kubectl delete pod of the xDS replica Envoy streams
                    from; then a server pod joins (it must take calls within 2 s)
  streams           30 long-lived streams through Envoy (no paced load), servers 3 → 6,
                    then a rollout, the servers ending each stream after ${K8S_STREAMS_TIMINGS.rebalanceMs / 1000} s; each pod
                    must carry its fair share in time, nothing lost or duplicated

On the xds overlay (make k8s-cluster DISCOVERY=xds) a new server pod must take
calls within 2 s of Ready (by DNS: CoreDNS's TTL, Envoy's refresh and checks).

On the tls overlay (make k8s-cluster TLS=1) every client of this command speaks TLS
to Envoy, trusting the CA of the ConfigMap grpc-lb-ca.

'envoy-hosts' checks that Envoy's server cluster routes to exactly what the server
Service answers, every host healthy: each ready pod's IP when it is headless, its
cluster IP otherwise (waiting up to --wait-ms, default 0); it prints the hosts.

'doctor' runs grpc-lb doctor on every ready Envoy pod (admin API and listener
through kubectl port-forward), with live health-check calls through each; exit 1
when any pod has an error finding.

'secrets' creates or updates the Secrets envoy-tls and server-tls and the ConfigMap
grpc-lb-ca from a certificate set of 'grpc-lb certs' (DIR/current; made with
--server-name server --shared-name server --k8s-namespace NS); the CA's key stays here.

'mtls-refusal' runs a pod of its own that calls every ready server pod directly,
trusting the CA but with no client certificate: exit 0 when each refuses it in the
TLS handshake (mutual TLS), 1 otherwise.

${K8S_WATCH_HELP}

The cluster is the local one of 'make k8s-local-up' when .tools/k8s-local/kubeconfig
exists, otherwise kubectl's current context.

Options:
  --wait-ms MS     envoy-hosts: how long to wait for a match (default 0)
  --certs DIR      secrets, cert-rotation: the certificate set (default .tools/k8s-certs)
  --namespace NS   the namespace of the deployment (default ${K8S_NAMESPACE})
  --json           print the report as one JSON object (progress goes to stderr)
  --watch          scenario: show every Envoy pod's hosts live on stderr while it runs,
                   as 'k8s watch' does (the pods ready at its start)
  -h, --help       show this help

Watch options (k8s watch; see grpc-lb watch --help):
${WATCH_USAGE}
`,
  async run(argv, ctx) {
    const { values, positionals } = parseFlags(
      "k8s",
      argv,
      {
        namespace: { type: "string" },
        watch: { type: "boolean" },
        json: { type: "boolean" },
        "wait-ms": { type: "string" },
        certs: { type: "string" },
        ...WATCH_FLAGS,
      },
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
    const kube = resolveKubeTarget(namespace);
    if (
      sub !== "secrets" &&
      !(sub === "scenario" && nameArg === "cert-rotation") &&
      values.certs !== undefined
    )
      throw new UsageError("grpc-lb k8s: --certs is for secrets and scenario cert-rotation");
    const certsDir = values.certs ?? K8S_CERTS_DIR;
    const given = Object.keys(WATCH_FLAGS).filter((k) => values[k as keyof typeof WATCH_FLAGS] !== undefined);
    if (sub !== "watch" && given.length > 0)
      throw new UsageError(`grpc-lb k8s: --${given[0]} goes with 'k8s watch' only`);
    if (values.watch && sub !== "scenario")
      throw new UsageError("grpc-lb k8s: --watch goes with 'k8s scenario' (for a view alone: 'k8s watch')");
    if (sub === "watch") {
      if (nameArg !== undefined) throw new UsageError("grpc-lb k8s watch: takes no argument");
      return k8sWatch(kube, watchFlags("k8s watch", values), ctx);
    }
    if (sub === "envoy-hosts") {
      if (nameArg !== undefined) throw new UsageError("grpc-lb k8s envoy-hosts: takes no argument");
      const waitMs = intFlag("k8s", "wait-ms", values["wait-ms"], { min: 0, max: 600_000 }) ?? 0;
      const client = await clusterClientTls(kube, ctx.signal);
      try {
        ctx.stdout(await envoyHostsReport(kube, waitMs, ctx.signal, client.tls));
      } finally {
        await client.dispose();
      }
      return 0;
    }
    if (values["wait-ms"] !== undefined)
      throw new UsageError(`grpc-lb k8s ${sub ?? ""}: --wait-ms is for envoy-hosts`.replace("  ", " "));
    if ((sub === "secrets" || sub === "mtls-refusal") && nameArg !== undefined)
      throw new UsageError(`grpc-lb k8s ${sub}: takes no argument`);
    if (sub === "secrets") {
      ctx.stdout(await applyTlsSecrets(kube, certsDir, ctx.signal));
      return 0;
    }
    if (sub === "mtls-refusal") {
      const results = await mtlsRefusal(kube, ctx.signal);
      ctx.stdout(values.json ? `${JSON.stringify(results)}\n` : formatRefusals(results));
      return results.every((r) => r.refused) ? 0 : 1;
    }
    if (sub === "doctor") {
      if (nameArg !== undefined) throw new UsageError("grpc-lb k8s doctor: takes no argument");
      return doctorOnEveryEnvoy(kube, values.json === true, ctx);
    }
    if (sub !== "scenario") {
      throw new UsageError(
        `grpc-lb k8s: ${sub === undefined ? "name a subcommand" : `unknown subcommand '${sub}'`}: scenario, envoy-hosts, doctor, secrets, mtls-refusal, watch (see grpc-lb k8s --help)`,
      );
    }
    const name = choiceFlag("k8s scenario", "scenario", nameArg, K8S_SCENARIO_NAMES);
    if (name === undefined || extra.length > 0) {
      throw new UsageError(
        `grpc-lb k8s scenario: name one of ${K8S_SCENARIO_NAMES.join(", ")} (see grpc-lb k8s --help)`,
      );
    }
    const shown = values.watch ? await k8sWatchDuring(kube, ctx) : undefined;
    const report = await runK8sScenario(
      k8sScenarios[name],
      kube,
      (text) => ctx.stderr(`k8s: ${text}\n`),
      ctx.signal,
      { certsDir },
    ).finally(() => shown?.stop());
    ctx.stdout(values.json ? `${JSON.stringify(report)}\n` : formatScenarioReport(report));
    return report.verdict === "pass" ? 0 : 1;
  },
};
