import { formatLabEvent, type LabEvent } from "../../../lab/events.js";
import type { PeerClusterEvent } from "../../../peers/cluster.js";
import { formatPeerEvent, type PeerEvent } from "../../../peers/events.js";
import type { CommandContext } from "../../args.js";

/** One `grpc-lb lab` subcommand: its own usage and its own strict flags. */
export interface LabSubcommand {
  /** The word after `lab`; "" for the plain load run. */
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

const isPeerEvent = (e: PeerClusterEvent): e is PeerEvent => e.kind.startsWith("peer-");

/** Lab progress, Envoy's lab or a peer's, as `lab: …` lines on stderr. */
export const progress =
  (ctx: CommandContext) =>
  (e: LabEvent | PeerClusterEvent): void =>
    ctx.stderr(`${isPeerEvent(e) ? formatPeerEvent(e) : formatLabEvent(e)}\n`);
