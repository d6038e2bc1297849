import fc from 'fast-check';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestWorld, uniqueId, type TestWorld } from '../../test/harness.ts';
import { headerBlock, headersToRecord, messageHeaders } from './messageHeaders.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

describe('headers of messages read from JetStream', () => {
  it('are read from the block as received exactly as nats.js reads them', async () => {
    const js = jetstream(world.nc);
    const key = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
    const value = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((v) => !/[\r\n]/.test(v));
    const samples = fc.sample(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 8 }), {
      numRuns: 100,
      seed: 42,
    });
    const subject = `${world.ns.events}.headers.${uniqueId()}`;
    let first = 0;
    for (const pairs of samples) {
      const h = headers();
      for (const [k, v] of pairs) h.append(k, v);
      const { seq } = await js.publish(subject, new Uint8Array([123, 125]), { headers: h });
      first ||= seq;
    }
    const consumer = await js.consumers.get(world.ns.stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: first,
    });
    const messages = await consumer.fetch({ max_messages: samples.length, expires: 5_000 });
    let read = 0;
    for await (const m of messages) {
      read++;
      // The fast path is live with this nats.js: an upgrade that moves what it keeps fails here, not silently.
      expect(headerBlock(m)).toBeInstanceOf(Uint8Array);
      const nats = headersToRecord(m.headers);
      expect(messageHeaders(m)).toEqual(nats);
    }
    expect(read).toBe(samples.length);
  });
});
