import { randomBytes } from 'node:crypto';
import { event, subjects, type DomainEvent } from '../../../events/index.ts';
import type { AnyLab } from './lab.ts';

/**
 * A long history appended straight to the stream (years of alerts set and deleted by other users), so that a
 * projector starting on an empty schema has a large replay ahead of it. Thresholds sit far from any test run's
 * ratios: the history triggers nothing.
 */
export async function appendBacklog(lab: AnyLab, messages: number): Promise<number> {
  const meta = {
    occurredAt: new Date('2026-01-01T00:00:00Z').toISOString(),
    correlationId: 'backlog',
    causationId: 'backlog',
  };
  const sets: (() => Promise<unknown>)[] = [];
  const deletes: (() => Promise<unknown>)[] = [];
  for (let i = 0; sets.length + deletes.length < messages; i++) {
    const userId = `u${randomBytes(16).toString('hex')}`;
    const alertId = `hist${i}`;
    const set: DomainEvent[] = [
      event('AlertSet', { alertId, userId, base: 'EUR', quote: 'USD', threshold: `${5 + (i % 97) / 10}` }),
    ];
    sets.push(() =>
      lab.store.append(subjects.alert(lab.ns, alertId), set, { expectedSeq: 0, msgId: `hist-set-${i}`, meta }),
    );
    if (i % 3 === 0) {
      const del: DomainEvent[] = [event('AlertDeleted', { alertId, userId })];
      deletes.push(() =>
        lab.store.append(subjects.alert(lab.ns, alertId), del, { expectedSeq: 'any', msgId: `hist-del-${i}`, meta }),
      );
    }
  }
  for (const appends of [sets, deletes]) {
    for (let i = 0; i < appends.length; i += 200)
      await Promise.all(appends.slice(i, i + 200).map((append) => append()));
  }
  return lab.store.lastSeq();
}
