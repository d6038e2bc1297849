import type { CommandReply, DomainEvent, EnvelopeMeta } from '../../events/index.ts';
import { ConcurrencyError, type EventStore } from '../../platform/eventStore/index.ts';
import type { Decision } from './decision.ts';

const MAX_ATTEMPTS = 5;

/**
 * Load an aggregate, decide, append with the expected sequence; on a concurrency conflict load and
 * decide again. The command id is the message id, so a retried command is stored once.
 */
export async function decideAndAppend<S>(options: {
  store: EventStore;
  subject: string;
  initialState: S;
  evolve: (state: S, event: DomainEvent) => S;
  decide: (state: S) => Decision | Promise<Decision>;
  commandId: string;
  meta: EnvelopeMeta;
  /** The subject is almost surely new (a fresh id): decide on the initial state first and load only on a conflict. */
  expectNew?: boolean;
}): Promise<CommandReply> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const optimistic = attempt === 1 && options.expectNew === true;
    const { history, lastSeq } = optimistic ? { history: [], lastSeq: 0 } : await options.store.load(options.subject);
    const state = history.flatMap((h) => h.events).reduce(options.evolve, options.initialState);
    const decision = await options.decide(state);
    if (!decision.ok) return { ok: false, error: decision.error, message: decision.message };
    const result = decision.result ?? {};
    if (decision.events.length === 0) return { ok: true, seq: lastSeq, result };
    try {
      const { seq } = await options.store.append(options.subject, decision.events, { expectedSeq: lastSeq, msgId: options.commandId, meta: options.meta });
      return { ok: true, seq, result };
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
    }
  }
  return { ok: false, error: 'CONFLICT', message: 'Too many concurrent changes; try again' };
}
