// Baseline of command-append: raw JetStream publishes of the very messages SetAlert appends, in its own process.
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { encodeEvents, event, subjects } from '../../events/index.ts';
import type { CommandPayload } from '../../events/index.ts';
import { closedLoop, connect, type Connected, type Place } from '../lib/world.ts';

export type SetAlertCall = { commandId: string; payload: CommandPayload<'SetAlert'> };

let connected: Connected | undefined;
let js: JetStreamClient | undefined;
let prepared: { subject: string; body: Uint8Array; headers: MsgHdrs; msgID: string }[] = [];

export async function start(place: Place): Promise<void> {
  connected = await connect(place, 'bench-raw-publisher');
  js = jetstream(connected.nc, { timeout: 10_000 });
}

/** Encode beforehand exactly what the command service would append for each call: the timed loop only publishes. */
export function prepare(calls: SetAlertCall[]): number {
  const ns = connected!.ns;
  prepared = calls.map(({ commandId, payload }) => {
    const encoded = encodeEvents([event('AlertSet', payload)], {
      occurredAt: new Date().toISOString(),
      correlationId: commandId,
      causationId: commandId,
    });
    const headers = natsHeaders();
    for (const [k, v] of Object.entries(encoded.headers)) headers.set(k, v);
    return { subject: subjects.alert(ns, payload.alertId), body: encoded.body, headers, msgID: commandId };
  });
  return prepared.length;
}

/** Publish every prepared message with Nats-Expected-Last-Subject-Sequence 0, `inFlight` at a time; ms taken. */
export async function publish(inFlight: number): Promise<{ ms: number; published: number; failed: number }> {
  let failed = 0;
  const ms = await closedLoop(inFlight, prepared.length, async (i) => {
    const m = prepared[i]!;
    const ack = await js!
      .publish(m.subject, m.body, { msgID: m.msgID, headers: m.headers, expect: { lastSubjectSequence: 0 } })
      .catch(() => undefined);
    if (!ack || ack.duplicate) failed++;
  });
  return { ms, published: prepared.length - failed, failed };
}

export async function stop(): Promise<void> {
  await connected?.close();
}
