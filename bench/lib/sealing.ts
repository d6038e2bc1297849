import { personalFields, type DomainEvent, type PersonalKind } from '../../events/index.ts';
import type { PersonalData } from '../../platform/personalData/index.ts';

// Benchmarks write what the services write: every personal field sealed under its person's key (docs/design.md §9),
// so the figures include the keys' reads and the longer values, not a plain-text shortcut the system no longer takes.

export type Person = { userId: string; username: string; email: string };

/** Each person's username and address sealed under their own key (made at the first seal), `inFlight` people at a time. */
export async function sealedPeople(
  personal: PersonalData,
  people: readonly Person[],
  inFlight = 200,
): Promise<{ username: string; email: string }[]> {
  const sealed: { username: string; email: string }[] = [];
  for (let from = 0; from < people.length; from += inFlight)
    sealed.push(
      ...(await Promise.all(
        people.slice(from, from + inFlight).map(async (p) => ({
          username: await personal.seal(p.userId, 'username', p.username),
          email: await personal.seal(p.userId, 'email', p.email),
        })),
      )),
    );
  return sealed;
}

/** The event with each of its personal fields (events/catalog.ts personalFields) sealed under its person's key. */
export async function sealedEvent(personal: PersonalData, event: DomainEvent): Promise<DomainEvent> {
  const fields: Record<string, PersonalKind | undefined> = personalFields[event.type] ?? {};
  const data = { ...(event.data as Record<string, unknown>) };
  const owner = data.userId;
  if (typeof owner !== 'string') return event;
  for (const [field, kind] of Object.entries(fields))
    if (kind && typeof data[field] === 'string') data[field] = await personal.seal(owner, kind, data[field]);
  return { ...event, data } as DomainEvent;
}
