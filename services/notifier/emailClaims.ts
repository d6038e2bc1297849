import {
  event,
  isNotificationEvent,
  type EnvelopeMeta,
  type EventData,
  type EventOf,
  type NotificationEvent,
} from '../../events/index.ts';
import {
  decideAndAppend,
  DECIDE_AGAIN,
  UnstorableMessageError,
  type EventStore,
} from '../../platform/eventStore/index.ts';

/** How long an unconfirmed EmailSent record waits before it is tried again. */
const RECORD_RETRY_MS = 500;

/**
 * Exactly one notifier instance sends each email. Every email has a subject of its own in the log (a digest: one
 * run and one user; a link email: its token). Before sending, an instance records an EmailClaimed there with the
 * expected sequence it last saw, so of two instances working the same run at once (a redelivery while the first is
 * still at it) one wins and the other looks again after the claim's `until`. A claim whose holder died lapses then,
 * and the next instance takes the email over; a send that outlasts its claim is the one case left where an email may
 * go twice, and then with the same Message-ID.
 */

export type ClaimDeps = {
  store: EventStore;
  now: () => Date;
  /** This notifier instance, as claims name it. */
  instanceId: string;
  /** How long a claim holds: longer than the mailer may take to send one email (its timeouts). */
  claimMs: number;
};

export type EmailRef = Pick<EventData<'EmailClaimed'>, 'userId' | 'kind' | 'reference'>;

type SubjectView = { sent: boolean; claim: EventData<'EmailClaimed'> | undefined };

export type ClaimDecision = { do: 'nothing' } | { do: 'send' } | { do: 'claim' } | { do: 'wait'; until: string };

/** What the events of an email's subject say about it. */
export function viewOf(events: readonly NotificationEvent[]): SubjectView {
  const claim = events.filter((e): e is EventOf<'EmailClaimed'> => e.type === 'EmailClaimed').at(-1)?.data;
  return { sent: events.some((e) => e.type === 'EmailSent'), claim };
}

/** What instance `me` may do about an email at `now`, given its subject's events (pure). */
export function decideClaim(view: SubjectView, me: string, now: Date): ClaimDecision {
  if (view.sent) return { do: 'nothing' };
  if (!view.claim) return { do: 'claim' };
  const lapsed = Date.parse(view.claim.until) <= now.getTime();
  if (lapsed) return { do: 'claim' };
  if (view.claim.claimedBy === me) return { do: 'send' };
  return { do: 'wait', until: view.claim.until };
}

export type Claim =
  /** Send it; EmailSent follows `lastSeq`. `events` is everything the subject records, our claim included. */
  | { outcome: 'send'; lastSeq: number; events: NotificationEvent[] }
  | { outcome: 'sent'; events: NotificationEvent[] }
  /** Another instance holds it until `until`: look again then. */
  | { outcome: 'busy'; until: string; events: NotificationEvent[] };

const claimEvent = (deps: ClaimDeps, email: EmailRef): EventOf<'EmailClaimed'> =>
  event('EmailClaimed', {
    ...email,
    claimedBy: deps.instanceId,
    until: new Date(deps.now().getTime() + deps.claimMs).toISOString(),
  });

/**
 * Claim one email for this instance. Usually its subject is new, and one append records the claim together with
 * `first` (a digest's triggers); otherwise the subject is read back and the claim decided on what it holds.
 */
export async function claimEmail(
  deps: ClaimDeps,
  subject: string,
  email: EmailRef,
  options: { msgId: string; meta: EnvelopeMeta; first?: NotificationEvent[] },
): Promise<Claim> {
  return decideAndAppend<Claim, NotificationEvent>(deps.store, subject, {
    accepts: isNotificationEvent,
    meta: options.meta,
    // The optimistic opening, then up to three reads of what another instance (or we, earlier) recorded.
    attempts: 4,
    assumed: { events: [], lastSeq: 0 },
    decide: ({ events, lastSeq }) => {
      const decision = decideClaim(viewOf(events), deps.instanceId, deps.now());
      if (decision.do === 'nothing') return { answer: { outcome: 'sent', events } };
      if (decision.do === 'send') return { answer: { outcome: 'send', lastSeq, events } };
      if (decision.do === 'wait') return { answer: { outcome: 'busy', until: decision.until, events } };
      const claim = claimEvent(deps, email);
      if (lastSeq === 0) {
        // The opening message, under the email's own id: a duplicate is one recorded already, by us earlier or another instance.
        const opening = [...(options.first ?? []), claim];
        return {
          append: opening,
          msgId: options.msgId,
          appended: ({ seq, duplicate }) =>
            duplicate ? DECIDE_AGAIN : { outcome: 'send', lastSeq: seq, events: opening },
        };
      }
      return {
        append: [claim],
        msgId: `claim-${deps.instanceId}-${lastSeq}-${options.msgId}`,
        appended: ({ seq }) => ({ outcome: 'send', lastSeq: seq, events: [...events, claim] }),
      };
    },
    exhausted: () => ({ outcome: 'busy', until: new Date(deps.now().getTime() + 1_000).toISOString(), events: [] }),
  });
}

/**
 * Record that the email was sent, after our claim (`after`). Should the subject have moved since (the claim lapsed
 * mid-send and another instance claimed it), the email still went: record it unless someone already did.
 */
export async function recordSent(
  deps: ClaimDeps,
  subject: string,
  sent: EventOf<'EmailSent'>,
  options: { after: Extract<Claim, { outcome: 'send' }>; msgId: string; meta: EnvelopeMeta },
): Promise<void> {
  const record = () =>
    decideAndAppend<void, NotificationEvent>(deps.store, subject, {
      accepts: isNotificationEvent,
      meta: options.meta,
      attempts: 3,
      assumed: { events: options.after.events, lastSeq: options.after.lastSeq },
      decide: ({ events }) =>
        viewOf(events).sent
          ? { answer: undefined }
          : { append: [sent], msgId: options.msgId, appended: () => undefined },
      exhausted: () => undefined,
    });
  // The email has gone: for half a claim's time, a record that NATS did not confirm (a server restarting) is tried
  // again, safely (the message id makes a second store of it a duplicate), rather than the email sent again later.
  const lapses = deps.now().getTime() + deps.claimMs / 2;
  for (;;) {
    try {
      return await record();
    } catch (error) {
      if (error instanceof UnstorableMessageError || deps.now().getTime() + RECORD_RETRY_MS >= lapses) throw error;
      await new Promise((r) => setTimeout(r, RECORD_RETRY_MS));
    }
  }
}
