import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { ConcurrencyError, UnstorableMessageError } from './index.ts';
import { meta, openTestWorld, uniqueId, type TestWorld } from '../../test/harness.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

const alertSet = (alertId: string) =>
  event('AlertSet', { alertId, userId: 'u1', base: 'EUR', quote: 'USD', threshold: '1.08' });

describe('event store on real JetStream', () => {
  it('lets exactly one of two racing appends with the same expected sequence win', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    await world.store.append(subject, [alertSet(alertId)], { expectedSeq: 0, msgId: uniqueId(), meta: meta() });
    const last = await world.store.lastSeqOf(subject);
    const race = await Promise.allSettled(
      [1, 2].map(() =>
        world.store.append(subject, [event('AlertDeleted', { alertId, userId: 'u1' })], {
          expectedSeq: last,
          msgId: uniqueId(),
          meta: meta(),
        }),
      ),
    );
    const won = race.filter((r) => r.status === 'fulfilled');
    const lost = race.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
    const { history } = await world.store.load(subject);
    expect(history.map((h) => h.events[0]!.type)).toEqual(['AlertSet', 'AlertDeleted']);
  });

  it('stores an append retried with the same message id once', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    const msgId = uniqueId();
    const first = await world.store.append(subject, [alertSet(alertId)], { expectedSeq: 0, msgId, meta: meta() });
    const again = await world.store.append(subject, [alertSet(alertId)], { expectedSeq: 0, msgId, meta: meta() });
    expect(again).toEqual({ seq: first.seq, duplicate: true });
    expect((await world.store.load(subject)).history).toHaveLength(1);
  });

  it('keeps several events of one decision in one message, in order', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    const { seq } = await world.store.append(
      subject,
      [alertSet(alertId), event('AlertDeleted', { alertId, userId: 'u1' })],
      {
        expectedSeq: 0,
        msgId: uniqueId(),
        meta: meta('corr-1'),
      },
    );
    const { history, lastSeq } = await world.store.load(subject);
    expect(lastSeq).toBe(seq);
    expect(history).toHaveLength(1);
    expect(history[0]!.events.map((e) => e.type)).toEqual(['AlertSet', 'AlertDeleted']);
    expect(history[0]!.meta.correlationId).toBe('corr-1');
  });

  it('refuses to write an event that breaks its schema', async () => {
    const alertId = uniqueId();
    const bad = event('AlertSet', { alertId, userId: 'u1', base: 'EUR', quote: 'USD', threshold: '-1' });
    const refused = world.store.append(subjects.alert(world.ns, alertId), [bad], {
      expectedSeq: 0,
      msgId: uniqueId(),
      meta: meta(),
    });
    await expect(refused).rejects.toThrow(/threshold/);
    await expect(refused).rejects.toBeInstanceOf(UnstorableMessageError);
    expect(await world.store.lastSeqOf(subjects.alert(world.ns, alertId))).toBe(0);
  });

  it('tells a message bigger than the server takes (max_payload, refused by the client) from NATS being unavailable', async () => {
    const alertId = uniqueId();
    const maxPayload = world.nc.info!.max_payload;
    const deletions = Array.from({ length: Math.ceil(maxPayload / 50) }, () =>
      event('AlertDeleted', { alertId, userId: 'u1' }),
    );
    const refused = world.store.append(subjects.alert(world.ns, alertId), deletions, {
      expectedSeq: 0,
      msgId: uniqueId(),
      meta: meta(),
    });
    await expect(refused).rejects.toBeInstanceOf(UnstorableMessageError);
    await expect(refused).rejects.toThrow(/max_payload size exceeded/);
    expect(await world.store.lastSeqOf(subjects.alert(world.ns, alertId))).toBe(0);
  });

  it('tells a message bigger than the stream takes (refused by JetStream) from NATS being unavailable', async () => {
    const jsm = await jetstreamManager(world.nc);
    const { config } = await jsm.streams.info(world.ns.stream);
    await jsm.streams.update(world.ns.stream, { ...config, max_msg_size: 2_048 });
    try {
      const alertId = uniqueId();
      const deletions = Array.from({ length: 60 }, () => event('AlertDeleted', { alertId, userId: 'u1' }));
      const refused = world.store.append(subjects.alert(world.ns, alertId), deletions, {
        expectedSeq: 0,
        msgId: uniqueId(),
        meta: meta(),
      });
      await expect(refused).rejects.toBeInstanceOf(UnstorableMessageError);
      await expect(refused).rejects.toThrow(/message size exceeds maximum allowed \(10054\)/);
      expect(await world.store.lastSeqOf(subjects.alert(world.ns, alertId))).toBe(0);
    } finally {
      await jsm.streams.update(world.ns.stream, { ...config, max_msg_size: -1 });
    }
  });

  it('reads the whole log in order from a sequence', async () => {
    const last = await world.store.lastSeq();
    const seqs: number[] = [];
    for await (const m of world.store.read({ fromSeq: 1 })) seqs.push(m.seq);
    expect(seqs.at(-1)).toBe(last);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const tail: number[] = [];
    for await (const m of world.store.read({ fromSeq: last })) tail.push(m.seq);
    expect(tail).toEqual([last]);
  });

  it("ends a read up to the log's last sequence when its last messages were deleted, as cra replay reads", async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    const kept = await world.store.append(subject, [alertSet(alertId)], {
      expectedSeq: 0,
      msgId: uniqueId(),
      meta: meta(),
    });
    const jsm = await jetstreamManager(world.nc);
    for (let i = 0; i < 2; i++) {
      const gone = await world.store.appendRaw(`${world.ns.events}.gone`, new Uint8Array(), {});
      await jsm.streams.deleteMessage(world.ns.stream, gone, false);
    }
    const last = await world.store.lastSeq();
    expect(last).toBe(kept.seq + 2);
    const started = Date.now();
    const seqs: number[] = [];
    for await (const m of world.store.read({ fromSeq: kept.seq, untilSeq: last })) seqs.push(m.seq);
    expect(seqs).toEqual([kept.seq]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('durable consumption', () => {
  it('works on several messages at once: one that takes long holds up none after it', async () => {
    const seqs: number[] = [];
    for (const id of ['slow', 'quick-1', 'quick-2']) {
      const alertId = `${id}-${uniqueId()}`;
      const { seq } = await world.store.append(subjects.alert(world.ns, alertId), [alertSet(alertId)], {
        expectedSeq: 0,
        msgId: alertId,
        meta: meta(),
      });
      seqs.push(seq);
    }
    const [first] = seqs as [number];
    const controller = new AbortController();
    const handled: number[] = [];
    let releaseSlow!: () => void;
    const slowReleased = new Promise<void>((r) => (releaseSlow = r));
    const consuming = world.store.consumeDurable(
      `concurrency-${uniqueId()}`,
      async (raw) => {
        if (raw.seq < first) return 'ack';
        // The first message waits until both after it were handled: one at a time, it would wait for ever.
        if (raw.seq === first) await slowReleased;
        handled.push(raw.seq);
        if (handled.length === 2) releaseSlow();
        return 'ack';
      },
      { signal: controller.signal, concurrency: 2 },
    );
    const deadline = Date.now() + 10_000;
    while (handled.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await consuming;
    expect(handled).toEqual([first + 1, first + 2, first]);
  });
});
