// Baseline of projector-replay: read the whole stream with an ordered consumer and do nothing with it.
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, type Connected, type Place } from '../lib/world.ts';

let connected: Connected | undefined;

export async function start(place: Place): Promise<void> {
  connected = await connect(place, 'bench-ordered-reader');
}

/** Read sequences 1..last; the same consumer settings as the event store's reader (ordered, 512 messages per pull). */
export async function readAll(): Promise<{ ms: number; messages: number }> {
  const { nc, ns, store } = connected!;
  const last = await store.lastSeq();
  const js = jetstream(nc, { timeout: 10_000 });
  const started = performance.now();
  const consumer = await js.consumers.get(ns.stream, {
    filter_subjects: `${ns.events}.>`,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: 1,
  });
  const messages = await consumer.consume({ max_messages: 512 });
  let count = 0;
  for await (const m of messages) {
    count++;
    if (m.seq >= last) break;
  }
  await messages.close();
  return { ms: performance.now() - started, messages: count };
}

export async function stop(): Promise<void> {
  await connected?.close();
}
