import { subjects, type EventOf, type Namespace } from '../../events/index.ts';
import type { EventStore, StoredEvents } from '../../platform/eventStore/index.ts';

/** An account's own subject, as the log has it now: who it was and whether it was erased are read from here. */
export async function accountHistory(
  deps: { store: EventStore; ns: Namespace },
  userId: string,
): Promise<StoredEvents[]> {
  return (await deps.store.load(subjects.user(deps.ns, userId))).history;
}

/**
 * Who the account was at `seq`: the username and address of its registration before then (a username erased and
 * registered anew is another person's account after the erasure, on the same subject).
 */
export function registrationBefore(
  history: readonly StoredEvents[],
  seq: number,
): { username: string; email: string } | undefined {
  const registration = history
    .filter((h) => h.seq < seq)
    .flatMap((h) => h.events)
    .filter((e): e is EventOf<'RegistrationRequested'> => e.type === 'RegistrationRequested')
    .at(-1);
  return registration ? { username: registration.data.username, email: registration.data.email } : undefined;
}

/** Was the account erased after `seq`? Then nothing asked for before the erasure goes to it any more. */
export function erasedAfter(history: readonly StoredEvents[], seq: number): boolean {
  return history.some((h) => h.seq > seq && h.events.some((e) => e.type === 'AccountErased'));
}
