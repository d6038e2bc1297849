import { linkEmailKey, subjects, type DomainEvent } from '../../events/index.ts';
import type { StoredEvents } from '../../platform/eventStore/index.ts';
import type { WebDeps } from '../deps.ts';

/** One event of the log as the export shows it: where it is in the log, when it happened, what it says. */
export type OwnEvent = { seq: number; position: number; time: string; type: DomainEvent['type']; data: object };

/**
 * Payload fields whose values are secrets (an argon2id hash, a link token's hash, a webhook channel's signing secret),
 * not facts about a person.
 */
export const WITHHELD_FIELDS = ['passwordHash', 'tokenHash', 'secret'] as const;
export const WITHHELD = 'withheld';

/** Every event of these messages, one by one, with its message's sequence and time and its place in the message. */
export function eventsOf(history: readonly StoredEvents[]): OwnEvent[] {
  return history.flatMap((message) =>
    message.events.map((event, position): OwnEvent => ({
      seq: message.seq,
      position,
      time: message.meta.occurredAt,
      type: event.type,
      data: event.data,
    })),
  );
}

/**
 * The events of a user subject that are the current account's: from its registration request on. The subject is the
 * username's, so it also holds any earlier registration of that username that lapsed unverified, perhaps someone
 * else's with another address; an account has exactly one registration request, the one it was verified by (a
 * request while another is pending is refused, and one after an expiry records the expiry in the same message).
 */
export function currentAccountEvents(userEvents: readonly OwnEvent[]): OwnEvent[] {
  const start = userEvents.map((e) => e.type).lastIndexOf('RegistrationRequested');
  return start < 0 ? [] : userEvents.slice(start);
}

/** The subjects of the emails that carried this account's links: each one's key names the nonce of its token. */
export function linkEmailSubjects(deps: Pick<WebDeps['log'], 'ns'>, userId: string, account: readonly OwnEvent[]) {
  return account.flatMap((e) => {
    const data = e.data as { tokenNonce?: string };
    if (data.tokenNonce === undefined) return [];
    const purpose =
      e.type === 'PasswordResetRequested' ? 'reset' : e.type === 'EmailChangeRequested' ? 'email-change' : 'verify';
    return [subjects.email(deps.ns, linkEmailKey(purpose, userId, data.tokenNonce))];
  });
}

/** The event with the values of WITHHELD_FIELDS replaced: the export says they exist, never what they are. */
export function withoutSecrets(event: OwnEvent): OwnEvent {
  const data: Record<string, unknown> = { ...event.data };
  for (const field of WITHHELD_FIELDS) if (field in data) data[field] = WITHHELD;
  return { ...event, data };
}

/** Subjects read at once: an export reads many small subjects, and must not hold the log's attention alone. */
const CONCURRENT_READS = 4;

async function loadEach(log: WebDeps['log'], subjectsToRead: readonly string[]): Promise<StoredEvents[]> {
  const loaded: StoredEvents[][] = [];
  let next = 0;
  const reader = async () => {
    for (let i = next++; i < subjectsToRead.length; i = next++)
      loaded[i] = (await log.load(subjectsToRead[i]!)).history;
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_READS, subjectsToRead.length) }, reader));
  return loaded.flat();
}

/**
 * The user's own events from the log, in log order, secrets withheld: their user subject (from the current account's
 * registration on), their alerts' and channels' subjects, the digests of the runs that triggered their alerts, and the emails that
 * carried their links. Every event kept names the user, and none is older than the account: nobody else's is here.
 * Also the sequence the account starts at, to cut the read models' rows to the same account.
 */
export async function ownEvents(
  log: WebDeps['log'],
  userId: string,
  owned: { alertIds: readonly string[]; digestRunSeqs: readonly number[]; channelIds?: readonly string[] },
): Promise<{ since: number; events: OwnEvent[] }> {
  const account = currentAccountEvents(eventsOf((await log.load(subjects.user(log.ns, userId))).history));
  const since = account[0]?.seq ?? Number.POSITIVE_INFINITY;
  const others = eventsOf(
    await loadEach(log, [
      ...owned.alertIds.map((alertId) => subjects.alert(log.ns, alertId)),
      ...owned.digestRunSeqs.map((runSeq) => subjects.digest(log.ns, runSeq, userId)),
      ...(owned.channelIds ?? []).map((channelId) => subjects.channel(log.ns, channelId)),
      ...linkEmailSubjects(log, userId, account),
    ]),
  );
  const events = [...account, ...others]
    .filter((e) => e.seq >= since && (e.data as { userId?: string }).userId === userId)
    .sort((a, b) => a.seq - b.seq || a.position - b.position)
    .map(withoutSecrets);
  return { since, events };
}
