import { formatLabEvent } from "../../../lab/events.js";
import { formatReportText } from "../../../loadgen/format-text.js";
import { formatPeerEvent } from "../../../peers/events.js";
import { runPeerLab } from "../../../peers/lab-run.js";
import type { PeerKind } from "../../../peers/options.js";
import type { CommandContext } from "../../args.js";

/** `grpc-lb lab --proxy haproxy|nginx`: the plain run with the peer where Envoy would be. */
export async function runLabThroughPeer(
  kind: PeerKind,
  options: Parameters<typeof runPeerLab>[1],
  json: boolean,
  ctx: CommandContext,
): Promise<number> {
  const report = await runPeerLab(
    kind,
    options,
    (e) =>
      ctx.stderr(
        `${e.kind.startsWith("peer-") ? formatPeerEvent(e as never) : formatLabEvent(e as never)}\n`,
      ),
    ctx.signal,
  );
  ctx.stdout(
    json ? `${JSON.stringify({ proxy: kind, ...report })}\n` : `through ${kind}\n${formatReportText(report)}`,
  );
  if (report.interrupted) return 130;
  return report.requests.failed === 0 && report.requests.ok > 0 ? 0 : 1;
}
