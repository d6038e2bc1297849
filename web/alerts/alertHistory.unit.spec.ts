import { describe, expect, it } from 'vitest';
import { event, type DomainEvent } from '../../events/index.ts';
import type { StoredEvents } from '../../platform/eventStore/index.ts';
import { alertHistory } from './alertHistory.ts';
import type { DetailTrigger } from './detailQueries.ts';

const owner = { userId: 'u1', threshold: '1.08' };
const stored = (seq: number, at: string, ...events: DomainEvent[]): StoredEvents => ({
  seq,
  subject: 'cra.events.alert.a1',
  events,
  meta: { occurredAt: at, correlationId: 'c', causationId: 'c' },
});
const set = event('AlertSet', { alertId: 'a1', userId: 'u1', base: 'EUR', quote: 'USD', threshold: '1.08' });
const trigger = (over: Partial<DetailTrigger> = {}): DetailTrigger => ({
  runSeq: 7,
  asOf: '2026-11-02',
  triggeredAt: new Date('2026-11-02T16:06:00Z'),
  previousRatio: '1.0790000000000000001',
  currentRatio: '1.08250000000000000002',
  direction: 'up',
  emailedAt: new Date('2026-11-02T16:06:01Z'),
  ...over,
});

describe('alertHistory', () => {
  it('tells the alert’s own events and its triggers in the order they happened, ratios as the alerts page shows them', () => {
    const history = alertHistory(
      [
        stored(3, '2026-11-01T10:00:00Z', set),
        stored(9, '2026-11-03T08:00:00Z', event('AlertDeleted', { alertId: 'a1', userId: 'u1' })),
      ],
      [trigger()],
      owner,
    );
    expect(history.map((h) => [h.kind, h.text, h.seq])).toEqual([
      ['set', 'Set: EUR/USD at 1.08', 3],
      ['triggered', 'Triggered (rates of 2026-11-02): 1.079 → 1.0825, crossed upward ↑', undefined],
      ['emailed', 'Emailed to you in the digest (rates of 2026-11-02)', undefined],
      ['deleted', 'Deleted: it triggers no more', 9],
    ]);
  });

  it('says nothing of an email that was not sent (alert emails paused, or still on its way)', () => {
    const history = alertHistory([], [trigger({ emailedAt: undefined, direction: 'down', asOf: undefined })], owner);
    expect(history.map((h) => h.text)).toEqual(['Triggered: 1.079 → 1.0825, crossed downward ↓']);
  });

  it('keeps only the owner’s alert events', () => {
    const someoneElses = event('AlertSet', { ...set.data, userId: 'u2' });
    expect(alertHistory([stored(3, '2026-11-01T10:00:00Z', someoneElses)], [], owner)).toEqual([]);
  });
});
