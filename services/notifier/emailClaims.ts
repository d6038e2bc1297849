import {
  event,
  isNotificationEvent,
  type DomainEvent,
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
 *
 * A webhook delivery is claimed the same way, on its own subject (services/notifier/webhooks/): `Claimable` says what
 * a subject's claim and its end are, and `claimSubject`/`recordAfterClaim` work on any of them.
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

/**
 * What a subject says about its one piece of work: done (`sent`: it went, or never will), the latest claim on it, and
 * when it may next be tried (`notBefore`: it failed for now, services/notifier/emailDelivery.ts).
 */
export type SubjectView = {
  sent: boolean;
  claim: { claimedBy: string; until: string } | undefined;
  notBefore?: string | undefined;
};

/** What a subject of claimed work holds: its events, how to read them, and the claim event an instance records. */
export type Claimable<E extends DomainEvent> = {
  accepts: (event: DomainEvent) => event is E;
  view: (events: readonly E[]) => SubjectView;
  claim: (claimedBy: string, until: string) => E;
};

export type ClaimDecision =
  { do: 'nothing' } | { do: 'send' } | { do: 'claim' } | { do: 'wait'; until: string } | { do: 'later'; until: string };

/** What the events of an email's subject say about it: sent or given up, its claim, and its last deferral's retry time. */
export function viewOf(events: readonly NotificationEvent[]): SubjectView {
  const claim = events.filter((e): e is EventOf<'EmailClaimed'> => e.type === 'EmailClaimed').at(-1)?.data;
  const deferred = events.filter((e): e is EventOf<'EmailDeferred'> => e.type === 'EmailDeferred').at(-1)?.data;
  return {
    sent: events.some((e) => e.type === 'EmailSent' || e.type === 'EmailUndeliverable'),
    claim,
    notBefore: deferred?.retryAt,
  };
}

/** What instance `me` may do about an email at `now`, given its subject's events (pure). */
export function decideClaim(view: SubjectView, me: string, now: Date): ClaimDecision {
  if (view.sent) return { do: 'nothing' };
  // Failed for now: nobody tries it (nor claims it) before its time.
  if (view.notBefore && Date.parse(view.notBefore) > now.getTime()) return { do: 'later', until: view.notBefore };
  if (!view.claim) return { do: 'claim' };
  const lapsed = Date.parse(view.claim.until) <= now.getTime();
  if (lapsed) return { do: 'claim' };
  if (view.claim.claimedBy === me) return { do: 'send' };
  return { do: 'wait', until: view.claim.until };
}

export type Claim<E extends DomainEvent = NotificationEvent> =
  /** Send it; EmailSent follows `lastSeq`. `events` is everything the subject records, our claim included. */
  | { outcome: 'send'; lastSeq: number; events: E[] }
  | { outcome: 'sent'; events: E[] }
  /** Another instance holds it until `until`: look again then. */
  | { outcome: 'busy'; until: string; events: E[] }
  /** It failed for now and is tried again from `until` on. */
  | { outcome: 'later'; until: string; events: E[] };

/** An email's subject: EmailClaimed claims it, EmailSent ends it. */
const emailClaimable = (email: EmailRef): Claimable<NotificationEvent> => ({
  accepts: isNotificationEvent,
  view: viewOf,
  claim: (claimedBy, until) => event('EmailClaimed', { ...email, claimedBy, until }),
});

/**
 * Claim one email for this instance. Usually its subject is new, and one append records the claim together with
 * `first` (a digest's triggers); otherwise the subject is read back and the claim decided on what it holds.
 */
export function claimEmail(
  deps: ClaimDeps,
  subject: string,
  email: EmailRef,
  options: { msgId: string; meta: EnvelopeMeta; first?: NotificationEvent[] },
): Promise<Claim> {
  return claimSubject(deps, subject, emailClaimable(email), options);
}

/** Claim the work of one subject for this instance (claimEmail's, for any Claimable). */
export async function claimSubject<E extends DomainEvent>(
  deps: ClaimDeps,
  subject: string,
  claimable: Claimable<E>,
  options: { msgId: string; meta: EnvelopeMeta; first?: E[] },
): Promise<Claim<E>> {
  const claimEvent = () =>
    claimable.claim(deps.instanceId, new Date(deps.now().getTime() + deps.claimMs).toISOString());
  return decideAndAppend<Claim<E>, E>(deps.store, subject, {
    accepts: claimable.accepts,
    meta: options.meta,
    // The optimistic opening, then up to three reads of what another instance (or we, earlier) recorded.
    attempts: 4,
    assumed: { events: [], lastSeq: 0 },
    decide: ({ events, lastSeq }) => {
      const decision = decideClaim(claimable.view(events), deps.instanceId, deps.now());
      if (decision.do === 'nothing') return { answer: { outcome: 'sent', events } };
      if (decision.do === 'send') return { answer: { outcome: 'send', lastSeq, events } };
      if (decision.do === 'wait') return { answer: { outcome: 'busy', until: decision.until, events } };
      if (decision.do === 'later') return { answer: { outcome: 'later', until: decision.until, events } };
      const claim = claimEvent();
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

/** What came of a claimed email: it went, it failed for now, or it never will (services/notifier/emailDelivery.ts). */
export type EmailOutcome = EventOf<'EmailSent'> | EventOf<'EmailDeferred'> | EventOf<'EmailUndeliverable'>;

/**
 * Record what came of the email, after our claim (`after`). Should the subject have moved since (the claim lapsed
 * mid-send and another instance claimed it), the email still went (or failed): record it unless someone already
 * recorded the email as sent or given up.
 */
export function recordEmailOutcome(
  deps: ClaimDeps,
  subject: string,
  outcome: EmailOutcome,
  options: { after: Extract<Claim, { outcome: 'send' }>; msgId: string; meta: EnvelopeMeta },
): Promise<void> {
  return recordAfterClaim(deps, subject, emailClaimable(outcome.data), outcome, options);
}

/**
 * Record what came of the claimed work (recordSent's, for any Claimable): `done` follows our claim unless the work is
 * recorded as done already (a step that does not end the work, such as a failed attempt, leaves it open).
 */
export async function recordAfterClaim<E extends DomainEvent>(
  deps: ClaimDeps,
  subject: string,
  claimable: Claimable<E>,
  done: E,
  options: { after: Extract<Claim<E>, { outcome: 'send' }>; msgId: string; meta: EnvelopeMeta },
): Promise<void> {
  const record = () =>
    decideAndAppend<void, E>(deps.store, subject, {
      accepts: claimable.accepts,
      meta: options.meta,
      attempts: 3,
      assumed: { events: options.after.events, lastSeq: options.after.lastSeq },
      decide: ({ events }) =>
        claimable.view(events).sent
          ? { answer: undefined }
          : { append: [done], msgId: options.msgId, appended: () => undefined },
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
