import { subjects, type Namespace } from '../../events/index.ts';
import type { EventStore, StoredEvents } from '../../platform/eventStore/index.ts';

/** An account's own subject, as the log has it now: who it was and whether it was erased are read from here. */
export async function accountHistory(
  deps: { store: EventStore; ns: Namespace },
  userId: string,
): Promise<StoredEvents[]> {
  return (await deps.store.load(subjects.user(deps.ns, userId))).history;
}

/** Was the account erased after `seq`? Then nothing asked for before the erasure goes to it any more. */
export function erasedAfter(history: readonly StoredEvents[], seq: number): boolean {
  return history.some((h) => h.seq > seq && h.events.some((e) => e.type === 'AccountErased'));
}
