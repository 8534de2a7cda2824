import { getChannelzHandlers } from "@grpc/grpc-js";
import { WaitTimeoutError, waitFor } from "../util/wait.js";

/** How often the subchannels are looked at while some still connect, in ms. */
const POLL_MS = 5;

type Reply<T> = (error: unknown, value?: T) => void;
/** The two channelz handlers read here, as grpc-js implements them: synchronous, request in, reply out. */
interface ChannelzReader {
  GetChannel(call: { request: { channel_id: string } }, reply: Reply<{ channel: ChannelzChannel }>): void;
  GetSubchannel(
    call: { request: { subchannel_id: string } },
    reply: Reply<{ subchannel: { data: { state: { state: string } } } }>,
  ): void;
}
/** A grpc-js channel, as far as channelz knows it. */
interface Channel {
  getChannelzRef(): { id: number };
}
interface ChannelzChannel {
  subchannel_ref: { subchannel_id: string }[];
}

/**
 * The connectivity state of each subchannel of `channel` (READY, CONNECTING, …), read from
 * grpc-js's own channelz in this process; undefined when channelz is off for the channel.
 */
export function subchannelStates(channel: Channel): string[] | undefined {
  const channelz = getChannelzHandlers() as unknown as ChannelzReader;
  let refs: string[] | undefined;
  channelz.GetChannel({ request: { channel_id: String(channel.getChannelzRef().id) } }, (e, v) => {
    if (!e && v) refs = v.channel.subchannel_ref.map((r) => r.subchannel_id);
  });
  if (refs === undefined) return undefined;
  return refs.map((id) => {
    let state = "UNKNOWN";
    channelz.GetSubchannel({ request: { subchannel_id: id } }, (e, v) => {
      if (!e && v) state = v.subchannel.data.state.state;
    });
    return state;
  });
}

/**
 * Waits, until `deadline` (epoch ms) at most, for every subchannel of a READY channel to have
 * connected or failed. A round_robin channel is READY once one subchannel is, and its picker
 * takes only the READY ones: calls sent at once would skip the servers still connecting.
 * Past the deadline it goes on: those servers get their calls once connected.
 */
export async function untilSubchannelsSettled(channel: Channel, deadline: number): Promise<void> {
  const settled = (): true | undefined => {
    const states = subchannelStates(channel);
    return states === undefined || states.every((s) => s === "READY" || s === "TRANSIENT_FAILURE")
      ? true
      : undefined;
  };
  await waitFor("every subchannel to connect", settled, {
    timeoutMs: Math.max(0, deadline - Date.now()),
    intervalMs: POLL_MS,
  }).catch((e: unknown) => {
    if (!(e instanceof WaitTimeoutError)) throw e;
  });
}
