import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, isAlertEvent, subjects, type AlertEvent } from '../../events/index.ts';
import { meta, openTestWorld, uniqueId, type TestWorld } from '../../test/harness.ts';
import { ConcurrencyError, decideAndAppend, DECIDE_AGAIN, type SubjectHistory } from './index.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

const alertSet = (alertId: string) =>
  event('AlertSet', { alertId, userId: 'u1', base: 'EUR', quote: 'USD', threshold: '1.08' });
const deleted = (alertId: string) => event('AlertDeleted', { alertId, userId: 'u1' });

describe('decide, append, and decide again after another writer', () => {
  it("reads only the subject owner's events, and appends after the subject's last message whatever else it holds", async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    await world.store.append(
      subject,
      [
        alertSet(alertId),
        event('EmailClaimed', {
          userId: 'u1',
          kind: 'alert-digest',
          reference: 'r',
          claimedBy: 'x',
          until: new Date().toISOString(),
        }),
      ],
      {
        expectedSeq: 0,
        msgId: uniqueId(),
        meta: meta(),
      },
    );
    const seen: SubjectHistory<AlertEvent>[] = [];
    const seq = await decideAndAppend(world.store, subject, {
      accepts: isAlertEvent,
      meta: meta(),
      attempts: 1,
      decide: (history) => (
        seen.push(history),
        { append: [deleted(alertId)], msgId: uniqueId(), appended: (stored) => stored.seq }
      ),
    });
    expect(seen.map((h) => h.events.map((e) => e.type))).toEqual([['AlertSet']]);
    expect(seq).toBe(await world.store.lastSeqOf(subject));
  });

  it('decides on what it assumes first and reads the subject only after a conflict', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    const { seq: firstSeq } = await world.store.append(subject, [alertSet(alertId)], {
      expectedSeq: 0,
      msgId: uniqueId(),
      meta: meta(),
    });
    const seen: number[] = [];
    const answer = await decideAndAppend(world.store, subject, {
      accepts: isAlertEvent,
      meta: meta(),
      attempts: 2,
      assumed: { events: [], lastSeq: 0 },
      decide: ({ events, lastSeq }) => {
        seen.push(lastSeq);
        return events.length > 0
          ? { answer: 'exists' }
          : { append: [alertSet(alertId)], msgId: uniqueId(), appended: () => 'set' };
      },
    });
    expect(answer).toBe('exists');
    expect(seen).toEqual([0, firstSeq]);
  });

  it('gives up after its attempts with the exhausted answer, or throws the conflict when it has none', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    await world.store.append(subject, [alertSet(alertId)], { expectedSeq: 0, msgId: uniqueId(), meta: meta() });
    // One attempt, on a subject assumed new that is not: its append meets the message already there.
    const stale = { accepts: isAlertEvent, meta: meta(), attempts: 1, assumed: { events: [], lastSeq: 0 } };
    const decide = () => ({ append: [alertSet(alertId)], msgId: uniqueId(), appended: () => 'set' });
    expect(await decideAndAppend(world.store, subject, { ...stale, decide, exhausted: () => 'gave up' })).toBe(
      'gave up',
    );
    await expect(decideAndAppend(world.store, subject, { ...stale, decide })).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await world.store.load(subject)).history).toHaveLength(1);
  });

  it('decides again when the append was a duplicate the decision cannot take as its own', async () => {
    const alertId = uniqueId();
    const subject = subjects.alert(world.ns, alertId);
    const msgId = uniqueId();
    await world.store.append(subject, [alertSet(alertId)], { expectedSeq: 0, msgId, meta: meta() });
    const seen: number[] = [];
    const answer = await decideAndAppend(world.store, subject, {
      accepts: isAlertEvent,
      meta: meta(),
      attempts: 2,
      assumed: { events: [], lastSeq: 0 },
      decide: ({ events, lastSeq }) => {
        seen.push(lastSeq);
        if (events.length > 0) return { answer: 'read it back' };
        return { append: [alertSet(alertId)], msgId, appended: ({ duplicate }) => (duplicate ? DECIDE_AGAIN : 'mine') };
      },
    });
    expect(answer).toBe('read it back');
    expect(seen).toHaveLength(2);
  });
});
