import { EngineError } from "../../errors.js";
import { DEFAULT_SERVER_PORT } from "../../server/server.js";
import { formatHostPort } from "../../util/address.js";
import type { Replica } from "../target.js";
import { type DockerRunOptions, docker } from "./docker.js";

/** Where the project is and what it is called; Compose's labels find its containers. */
export interface ComposeProjectOptions {
  /** Absolute path of compose.yaml. */
  composeFile: string;
  /** Compose project name (the file's `name:`). */
  project: string;
  /** Port Envoy's listener is published on, on 127.0.0.1 (the file's ENVOY_PORT). */
  envoyPort: number;
}

/** One container of the project, as `docker inspect` shows it. */
export interface ComposeContainer {
  id: string;
  name: string;
  service: string;
  /** Compose's replica number (1, 2, …). */
  number: number;
  state: "running" | "paused" | "exited" | "created" | "restarting" | "removing" | "dead";
  /** Its address on the project's network, "" when not attached. */
  ip: string;
  /** DNS aliases on the project's network (the service name among them). */
  aliases: string[];
  startedAt: string;
  /** Its mounts: host path (or volume) → path in the container. */
  mounts: { source: string; destination: string }[];
}

interface InspectJson {
  Id: string;
  Name: string;
  State: { Status: ComposeContainer["state"]; StartedAt: string };
  Config: { Labels: Record<string, string> };
  NetworkSettings: { Networks: Record<string, { IPAddress?: string; Aliases?: string[] | null }> };
  Mounts?: { Source?: string; Destination?: string }[] | null;
}

/** A Compose project on the Docker engine: its containers, its network, and `docker compose` on its file. */
export class ComposeProject {
  readonly network: string;
  readonly listenAddress: string;

  constructor(readonly o: ComposeProjectOptions) {
    this.network = `${o.project}_default`;
    this.listenAddress = formatHostPort("127.0.0.1", o.envoyPort);
  }

  /** `docker compose -f FILE ARGS`, with the project's ENVOY_PORT. */
  compose(args: readonly string[], run: DockerRunOptions = {}): Promise<string> {
    return docker(["compose", "-f", this.o.composeFile, ...args], {
      ...run,
      env: { ENVOY_PORT: String(this.o.envoyPort), ...run.env },
    });
  }

  /** The service's containers in any state, by replica number. */
  async containers(service: string, signal?: AbortSignal): Promise<ComposeContainer[]> {
    const ids = (
      await docker(
        [
          "ps",
          "-aq",
          "--filter",
          `label=com.docker.compose.project=${this.o.project}`,
          "--filter",
          `label=com.docker.compose.service=${service}`,
          // Not one-off containers (compose run), nor others that inherit the built image's labels.
          "--filter",
          "label=com.docker.compose.oneoff=False",
        ],
        { signal },
      )
    )
      .split("\n")
      .filter(Boolean);
    if (ids.length === 0) return [];
    const inspected = JSON.parse(await docker(["inspect", ...ids], { signal })) as InspectJson[];
    return inspected
      .map((c) => {
        const net = c.NetworkSettings.Networks[this.network];
        return {
          id: c.Id,
          name: c.Name.replace(/^\//, ""),
          service,
          number: Number(c.Config.Labels["com.docker.compose.container-number"] ?? 0),
          state: c.State.Status,
          ip: net?.IPAddress ?? "",
          aliases: net?.Aliases ?? [],
          startedAt: c.State.StartedAt,
          mounts: (c.Mounts ?? []).map((m) => ({ source: m.Source ?? "", destination: m.Destination ?? "" })),
        };
      })
      .sort((a, b) => a.number - b.number);
  }

  /** The one running Envoy container; a clear error when the cluster is not up. */
  async envoy(signal?: AbortSignal): Promise<ComposeContainer> {
    const running = (await this.containers("envoy", signal)).filter((c) => c.state === "running");
    const [envoy] = running;
    if (envoy === undefined || running.length > 1) {
      throw new EngineError(
        `compose: expected one running envoy container in project '${this.o.project}', found ${running.length}; start the cluster with 'make docker-cluster'`,
      );
    }
    return envoy;
  }

  /**
   * The `ready` line `grpc-lb serve` printed in this start of the container (a restarted
   * container is a new process with a new server_id): its id, and when (wall clock, ms).
   */
  async readyLine(
    c: ComposeContainer,
    signal?: AbortSignal,
  ): Promise<{ serverId: string; readyAtMs: number } | undefined> {
    const logs = await docker(["logs", "--timestamps", "--since", c.startedAt, c.id], { signal });
    let found: { serverId: string; readyAtMs: number } | undefined;
    for (const line of logs.split("\n")) {
      const m = /^(\S+) (\{.*\})$/.exec(line);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      const event = JSON.parse(m[2]) as { event?: string; id?: string };
      if (event.event === "ready" && typeof event.id === "string") {
        found = { serverId: event.id, readyAtMs: Date.parse(m[1]) };
      }
    }
    return found;
  }

  /** A running server container as a scenario's replica (waits for its ready line up to `timeoutMs`). */
  async replica(c: ComposeContainer, signal?: AbortSignal): Promise<Replica> {
    const serverId = (await this.readyLine(c, signal))?.serverId;
    if (serverId === undefined || c.ip === "") {
      throw new EngineError(
        `compose: ${c.name} has not reported ready (no 'ready' line in its logs) or has no address`,
      );
    }
    return { name: c.name, address: formatHostPort(c.ip, DEFAULT_SERVER_PORT), serverId };
  }
}
