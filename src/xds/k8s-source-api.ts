import { readFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { errorFrom, messageOf, XdsError } from "../errors.js";

/** Where a pod finds its ServiceAccount's token and the cluster's CA (the kubelet mounts them). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * How the source reaches the API server. in-cluster: the ServiceAccount of the pod it runs in
 * (KUBERNETES_SERVICE_HOST/PORT, its token and CA). url: any address, for tests and for a
 * run outside the cluster through `kubectl proxy` (which adds the credentials).
 */
export type KubeApiAccess =
  | { kind: "in-cluster"; dir?: string; env?: NodeJS.ProcessEnv }
  | { kind: "url"; url: string };

/** A status the API server answered with, kept so that the watch can tell 410 Gone from the rest. */
export class KubeApiStatusError extends XdsError {
  override name = "KubeApiStatusError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The two calls the source makes, list and watch, over plain HTTPS: GET with the bearer token,
 * read again for each call since the kubelet rotates a projected token in place.
 */
export class KubeApi {
  private constructor(
    private readonly base: URL,
    private readonly token: () => Promise<string | undefined>,
    private readonly ca: Buffer | undefined,
  ) {}

  static async connect(access: KubeApiAccess): Promise<KubeApi> {
    if (access.kind === "url") return new KubeApi(new URL(access.url), async () => undefined, undefined);
    const env = access.env ?? process.env;
    const dir = access.dir ?? SERVICE_ACCOUNT_DIR;
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (!host)
      throw new XdsError("kubernetes source: KUBERNETES_SERVICE_HOST is not set: not running in a pod");
    const ca = await readFile(`${dir}/ca.crt`).catch((e: unknown) => {
      throw errorFrom(XdsError, e, `kubernetes source: cannot read the cluster CA in ${dir}`);
    });
    const token = async () =>
      (
        await readFile(`${dir}/token`, "utf8").catch((e: unknown) => {
          throw errorFrom(XdsError, e, `kubernetes source: cannot read the ServiceAccount token in ${dir}`);
        })
      ).trim();
    const hostPart = host.includes(":") ? `[${host}]` : host;
    return new KubeApi(new URL(`https://${hostPart}:${port}`), token, ca);
  }

  describe(): string {
    return this.base.origin;
  }

  /** GET `path` and parse its JSON body; a status other than 200 is a KubeApiStatusError. */
  async get<T>(path: string, signal: AbortSignal): Promise<T> {
    const res = await this.open(path, signal);
    const body = await readAll(res);
    if (res.statusCode !== 200) throw statusError(path, res.statusCode ?? 0, body);
    try {
      return JSON.parse(body) as T;
    } catch (e) {
      throw errorFrom(XdsError, e, `kubernetes source: GET ${path} answered no JSON`);
    }
  }

  /**
   * GET a watch and call `onEvent` with each JSON line until the server ends the stream (its
   * timeoutSeconds) or `signal` fires. A status other than 200 is a KubeApiStatusError. A
   * connection silent for `idleMs` (one that died without a reset) fails, so the caller watches again.
   */
  async watch(
    path: string,
    signal: AbortSignal,
    idleMs: number,
    onEvent: (event: unknown) => void,
  ): Promise<void> {
    const res = await this.open(path, signal, idleMs);
    if (res.statusCode !== 200) throw statusError(path, res.statusCode ?? 0, await readAll(res));
    let rest = "";
    res.setEncoding("utf8");
    for await (const chunk of res) {
      rest += chunk as string;
      for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n")) {
        const line = rest.slice(0, nl).trim();
        rest = rest.slice(nl + 1);
        if (line === "") continue;
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch (e) {
          throw errorFrom(XdsError, e, "kubernetes source: a watch event is not JSON");
        }
        onEvent(event);
      }
    }
  }

  private async open(path: string, signal: AbortSignal, idleMs = 0): Promise<IncomingMessage> {
    const url = new URL(path, this.base);
    const token = await this.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { headers, signal, ...(this.ca ? { ca: this.ca } : {}) }, resolve);
      if (idleMs > 0)
        req.setTimeout(idleMs, () =>
          req.destroy(new XdsError(`kubernetes source: the watch was silent for ${idleMs} ms`)),
        );
      req.on("error", (e) =>
        reject(
          signal.aborted ? signal.reason : errorFrom(XdsError, e, `kubernetes source: GET ${url.pathname}`),
        ),
      );
      req.end();
    });
  }
}

async function readAll(res: IncomingMessage): Promise<string> {
  res.setEncoding("utf8");
  let body = "";
  for await (const chunk of res) body += chunk as string;
  return body;
}

function statusError(path: string, status: number, body: string): KubeApiStatusError {
  let message = body.slice(0, 300);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: the body as it came.
  }
  const hint =
    status === 403 ? " (does the ServiceAccount's Role allow list and watch of endpointslices?)" : "";
  return new KubeApiStatusError(
    status,
    `kubernetes source: GET ${path.split("?")[0]} answered ${status}: ${messageOf(message)}${hint}`,
  );
}
