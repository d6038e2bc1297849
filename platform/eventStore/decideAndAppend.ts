import type { DomainEvent, EnvelopeMeta } from '../../events/index.ts';
import { ConcurrencyError } from './append.ts';
import type { EventStore } from './index.ts';

/** What a subject holds as a decision reads it: its owner's events and the sequence of its last message. */
export type SubjectHistory<E extends DomainEvent> = { events: E[]; lastSeq: number };

/** Decide again on the subject as it is now (read it and decide afresh), as after a concurrent writer. */
export const DECIDE_AGAIN = Symbol('decide again');

/**
 * What a decision on a subject comes to: an answer with nothing to append, or events to append after the history
 * it was made on and the answer once they are stored (`duplicate`: the message id was stored before).
 */
export type Step<R, E extends DomainEvent> =
  | { answer: R }
  | {
      append: readonly E[];
      msgId: string;
      appended: (stored: { seq: number; duplicate: boolean }) => R | typeof DECIDE_AGAIN;
    };

/**
 * Read a subject, decide, append with the expected sequence of what was read; when another writer got there first
 * (ConcurrencyError), read and decide again, at most `attempts` times in all. The one decide-append-retry loop of the
 * command service, the notifier's email claims and the scheduler.
 */
export async function decideAndAppend<R, E extends DomainEvent>(
  store: Pick<EventStore, 'load' | 'append'>,
  subject: string,
  options: {
    /** The owner's events: a subject holds only them, and anything else found there is skipped, here and only here. */
    accepts: (event: DomainEvent) => event is E;
    decide: (history: SubjectHistory<E>) => Step<R, E> | Promise<Step<R, E>>;
    meta: EnvelopeMeta;
    attempts: number;
    /** What the subject is taken to hold at the first attempt, without reading it (a new subject: no events at 0). */
    assumed?: SubjectHistory<E>;
    /** The answer when every attempt met another writer; without it that writer's ConcurrencyError is thrown. */
    exhausted?: () => R;
  },
): Promise<R> {
  let conflict: ConcurrencyError | undefined;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    const history = attempt === 1 && options.assumed ? options.assumed : await read(store, subject, options.accepts);
    const step = await options.decide(history);
    if ('answer' in step) return step.answer;
    try {
      const stored = await store.append(subject, step.append, {
        expectedSeq: history.lastSeq,
        msgId: step.msgId,
        meta: options.meta,
      });
      const answer = step.appended(stored);
      if (answer !== DECIDE_AGAIN) return answer;
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      conflict = error;
    }
  }
  if (options.exhausted) return options.exhausted();
  throw conflict ?? new Error(`no decision on ${subject} after ${options.attempts} attempts`);
}

async function read<E extends DomainEvent>(
  store: Pick<EventStore, 'load'>,
  subject: string,
  accepts: (event: DomainEvent) => event is E,
): Promise<SubjectHistory<E>> {
  const { history, lastSeq } = await store.load(subject);
  return { events: history.flatMap((stored) => stored.events).filter(accepts), lastSeq };
}
