import { EngineError } from "../../errors.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { clientPod } from "./client-pod.js";
import { type KubeTarget, kubectl } from "./kubectl.js";
import { listPods, SERVER_SELECTOR, servingPods } from "./pods.js";
import { CA_CONFIGMAP, serverServiceName } from "./tls-secrets.js";

/** The pod that plays a client without Envoy's certificate. */
const PROBE_POD = "mtls-refusal";
/** Where its one container finds the CA it trusts (ConfigMap grpc-lb-ca). */
const CA_DIR = "/etc/grpc-lb/ca";
/** What OpenSSL reports when a TLS 1.3 server asks for a client certificate and gets none. */
const CERTIFICATE_REQUIRED = /alert certificate required/;
const SECTION = /^=== (\S+) exit (\d+)$/;

/** What one server pod did with a client that has no certificate. */
export interface RefusalResult {
  pod: string;
  address: string;
  /** Exit status of `grpc-lb load` (1 when no call got through). */
  exit: number;
  /** The server's TLS alert reached the client: the refusal is mutual TLS, not an unreachable pod. */
  certificateRequired: boolean;
  refused: boolean;
}

/**
 * The probe pod: for each address, one call with `grpc-lb load` that trusts the CA and
 * checks the servers' name (so only the missing client certificate stands in the way),
 * with grpc-js's transport trace on so that the server's TLS alert shows in the log. The
 * engine is grpc-js by name: the h2 engine, the default for one address, does not print
 * the alert (it waits out its connect timeout).
 */
function probePod(namespace: string, image: string, addresses: string[]): object {
  const script = [
    'for a in "$@"; do',
    `  GRPC_TRACE=transport GRPC_VERBOSITY=DEBUG grpc-lb load --engine grpc-js --target "$a" --requests 1 --cacert ${CA_DIR}/ca.crt \\`,
    `    --cname ${serverServiceName(namespace)} --connect-timeout-ms 3000 --deadline-ms 3000 2>&1`,
    '  echo "=== $a exit $?"',
    "done",
  ].join("\n");
  return clientPod({
    name: PROBE_POD,
    namespace,
    app: PROBE_POD,
    image,
    container: "client",
    run: { command: ["/bin/bash", "-c", script, "probe", ...addresses] },
    cpuRequest: "50m",
    cpuLimit: "500m",
    volumes: [{ name: "ca", mountPath: CA_DIR, volume: { configMap: { name: CA_CONFIGMAP } } }],
  });
}

/** Reads the probe's log: one section per address, ended by its exit line. */
export function parseRefusalLog(log: string, pods: { name: string; address: string }[]): RefusalResult[] {
  const sections = new Map<string, { exit: number; text: string }>();
  let text = "";
  for (const line of log.split("\n")) {
    const m = SECTION.exec(line);
    if (m?.[1] === undefined) {
      text += `${line}\n`;
      continue;
    }
    sections.set(m[1], { exit: Number(m[2]), text });
    text = "";
  }
  return pods.map((p) => {
    const s = sections.get(p.address);
    const exit = s?.exit ?? -1;
    const certificateRequired = s !== undefined && CERTIFICATE_REQUIRED.test(s.text);
    return {
      pod: p.name,
      address: p.address,
      exit,
      certificateRequired,
      refused: exit === 1 && certificateRequired,
    };
  });
}

/**
 * From a pod of its own, calls every serving server pod directly, around Envoy, as a
 * client that trusts the CA but has no certificate: under the tls overlay each must
 * refuse it during the TLS handshake. Returns what each did.
 */
export async function mtlsRefusal(t: KubeTarget, signal?: AbortSignal): Promise<RefusalResult[]> {
  const opts = signal ? { signal } : {};
  const pods = servingPods(await listPods(t, SERVER_SELECTOR, signal)).map((p) => ({
    name: p.name,
    address: `${p.ip}:${DEFAULT_SERVER_PORT}`,
  }));
  if (pods.length === 0) throw new EngineError(`no ready server pod in namespace ${t.namespace}`);
  const image = (
    await kubectl(
      t,
      ["get", "deployment", "server", "-o", "jsonpath={.spec.template.spec.containers[0].image}"],
      opts,
    )
  ).trim();
  await kubectl(t, ["delete", "pod", PROBE_POD, "--ignore-not-found", "--wait=true"], {
    ...opts,
    timeoutMs: 60_000,
  });
  await kubectl(t, ["apply", "-f", "-"], {
    ...opts,
    input: JSON.stringify(
      probePod(
        t.namespace,
        image,
        pods.map((p) => p.address),
      ),
    ),
  });
  try {
    // The pod ends either way; a refused call makes `load` exit 1, which the script reports and goes on.
    await kubectl(
      t,
      ["wait", `pod/${PROBE_POD}`, "--for=jsonpath={.status.phase}=Succeeded", "--timeout=90s"],
      { ...opts, timeoutMs: 100_000 },
    );
    return parseRefusalLog(await kubectl(t, ["logs", PROBE_POD], opts), pods);
  } finally {
    await kubectl(t, ["delete", "pod", PROBE_POD, "--ignore-not-found", "--wait=false"], opts).catch(
      () => "",
    );
  }
}

/** One line per pod, and the verdict. */
export function formatRefusals(results: readonly RefusalResult[]): string {
  const lines = results.map(
    (r) =>
      `${r.refused ? "refused " : "NOT REFUSED"} pod ${r.pod} (${r.address}): load exit ${r.exit}, ` +
      `${r.certificateRequired ? "TLS alert 'certificate required' from the server" : "no 'certificate required' alert"}`,
  );
  const all = results.every((r) => r.refused);
  lines.push(
    all
      ? `every server pod (${results.length}) refused a client without Envoy's certificate`
      : `${results.filter((r) => !r.refused).length} of ${results.length} server pods did not refuse it`,
  );
  return `${lines.join("\n")}\n`;
}
