import { GrpcLbError, messageOf, UsageError } from "../errors.js";
import type { Command, CommandContext } from "./args.js";
import { certsCommand } from "./commands/certs.js";
import { composeCommand } from "./commands/compose.js";
import { deployGenCommand } from "./commands/deploy-gen.js";
import { doctorCommand } from "./commands/doctor.js";
import { envoyConfigCommand } from "./commands/envoy-config.js";
import { envoyHostsCommand } from "./commands/envoy-hosts.js";
import { k8sCommand } from "./commands/k8s.js";
import { labCommand } from "./commands/lab.js";
import { loadCommand } from "./commands/load.js";
import { serveCommand } from "./commands/serve.js";
import { watchCommand } from "./commands/watch.js";
import { xdsServerCommand } from "./commands/xds-server.js";

export const commands: readonly Command[] = [
  serveCommand,
  loadCommand,
  doctorCommand,
  envoyConfigCommand,
  envoyHostsCommand,
  watchCommand,
  labCommand,
  deployGenCommand,
  composeCommand,
  k8sCommand,
  certsCommand,
  xdsServerCommand,
];

export const usage = `Usage: grpc-lb <command> [options]

Per-request load balancing of gRPC through Envoy, discovering servers by DNS.

Commands:
${commands.map((c) => `  ${c.name.padEnd(14)}${c.summary}`).join("\n")}

Run 'grpc-lb <command> --help' for a command's options.
Set GRPC_LB_DEBUG=1 to print stack traces with errors.
`;

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 usage, 130 interrupted.
 * Errors become one line on stderr; GRPC_LB_DEBUG=1 adds the stack and causes.
 */
export async function main(argv: string[], ctx: CommandContext): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      (name === undefined ? ctx.stderr : ctx.stdout)(usage);
      return name === undefined ? 2 : 0;
    }
    const command = commands.find((c) => c.name === name);
    if (command === undefined)
      throw new UsageError(`grpc-lb: unknown command '${name}' (see grpc-lb --help)`);
    return await command.run(rest, ctx);
  } catch (e) {
    if (ctx.signal.aborted && !(e instanceof UsageError)) {
      ctx.stderr(`grpc-lb: interrupted (${messageOf(ctx.signal.reason)}); everything started was stopped\n`);
      return 130;
    }
    ctx.stderr(`${formatError(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

function formatError(e: unknown): string {
  const line = e instanceof GrpcLbError ? e.message : `unexpected error: ${messageOf(e)}`;
  if (!process.env.GRPC_LB_DEBUG) return `grpc-lb: ${line.replace(/^grpc-lb:? ?/, "")}`;
  const chain: string[] = [];
  for (let cur: unknown = e; cur !== undefined; cur = cur instanceof Error ? cur.cause : undefined) {
    chain.push(cur instanceof Error ? (cur.stack ?? cur.message) : String(cur));
  }
  return chain.join("\ncaused by: ");
}
