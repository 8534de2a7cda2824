import { formatLabEvent, type LabEvent } from "../../../lab/events.js";
import type { CommandContext } from "../../args.js";

/** One `grpc-lb lab` subcommand: its own usage and its own strict flags. */
export interface LabSubcommand {
  /** The word after `lab`; "" for the plain load run. */
  name: string;
  summary: string;
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}

/** Lab progress as `lab: …` lines on stderr. */
export const progress =
  (ctx: CommandContext) =>
  (e: LabEvent): void =>
    ctx.stderr(`${formatLabEvent(e)}\n`);
