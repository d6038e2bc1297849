import type { Agent } from 'undici';
import {
  event,
  isDeliveryEvent,
  subjects,
  type ChannelFormat,
  type DeliveryEvent,
  type EventOf,
  type Namespace,
} from '../../../events/index.ts';
import type { Logger } from '../../../platform/logger.ts';
import { ERASED, type PersonalData } from '../../../platform/personalData/index.ts';
import type { DestinationPolicy } from '../../../platform/webhookHttp/destination.ts';
import { sameTurn } from '../../../platform/sameTurn.ts';
import { guardedPost, type PostLimits } from '../../../platform/webhookHttp/guardedPost.ts';
import { claimSubject, recordAfterClaim, type Claimable, type ClaimDeps } from '../emailClaims.ts';
import type { HostSlots } from './hostSlots.ts';
import { messageBody, signedHeaders, type DeliveryContent } from './messages.ts';
import { attemptOutcome, type RetryPolicy } from './retryPolicy.ts';

export type WebhookDeps = ClaimDeps & {
  ns: Namespace;
  personal: PersonalData;
  policy: DestinationPolicy;
  /** The guarded dispatcher (platform/webhookHttp/guardedPost.ts), shared by every delivery of this instance. */
  agent: Agent;
  hosts: HostSlots;
  limits?: PostLimits;
  retry?: RetryPolicy;
  random?: () => number;
  logger: Logger;
};

/** A channel as the read model has it: its URL and secret sealed. */
export type Channel = { channelId: string; userId: string; url: string; format: ChannelFormat; secret: string };

type Attempted = EventOf<'WebhookAttempted'>['data'];

/** What one look at a delivery came to: it ended (and how), it waits until `until`, or there is no one to send to. */
export type DeliveryResult = { ended: Attempted['outcome'] } | { until: string } | 'skipped';

const attemptsOf = (events: readonly DeliveryEvent[]): Attempted[] =>
  events.filter((e): e is EventOf<'WebhookAttempted'> => e.type === 'WebhookAttempted').map((e) => e.data);

/** A delivery's subject: WebhookClaimed claims it (as EmailClaimed does an email), an attempt that is not `retry` ends it. */
const deliveryClaimable = (channel: Channel, reference: string): Claimable<DeliveryEvent> => ({
  accepts: isDeliveryEvent,
  view: (events) => ({
    sent: attemptsOf(events).some((a) => a.outcome !== 'retry'),
    claim: events.filter((e): e is EventOf<'WebhookClaimed'> => e.type === 'WebhookClaimed').at(-1)?.data,
    // A delivery that failed for now is not claimed again before its retry is due.
    notBefore: attemptsOf(events).at(-1)?.retryAt,
  }),
  claim: (claimedBy, until) =>
    event('WebhookClaimed', { channelId: channel.channelId, userId: channel.userId, reference, claimedBy, until }),
});

/** The id every attempt of one delivery carries (`webhook-id`): the receiver's key to drop a repeat. */
export const webhookIdOf = (reference: string, channelId: string) => `msg_${reference}_${channelId}`;

/**
 * Look at one delivery (`reference`: a run's sequence, or `t<testId>`) to one channel, and make its next attempt if
 * it is due. Exactly one notifier instance attempts it at a time, as one sends an email: it claims the delivery's
 * subject first (emailClaims.ts) and records each attempt after its claim. A crash between a send and its record
 * sends it again after the claim lapses, under the same webhook id.
 */
export async function deliver(
  deps: WebhookDeps,
  channel: Channel,
  reference: string,
  content: DeliveryContent,
): Promise<DeliveryResult> {
  const subject = subjects.delivery(deps.ns, reference, channel.channelId);
  const correlationId = `webhook-${reference}-${channel.channelId}`;
  const meta = () => ({ occurredAt: deps.now().toISOString(), correlationId, causationId: correlationId });
  const claimable = deliveryClaimable(channel, reference);
  // The claims (and key reads) of the deliveries that got here in one turn go to NATS in one write (sameTurn.ts).
  await sameTurn();
  // The person's key is read while the claim is recorded: two round trips at once, not one after the other (both
  // fields wait for the one read of the key). What they open stays in memory, and is dropped if the claim says so.
  const opening = Promise.all([
    deps.personal.reveal(channel.userId, 'webhook-url', channel.url),
    deps.personal.reveal(channel.userId, 'webhook-secret', channel.secret),
  ]);
  opening.catch(() => {});
  const claim = await claimSubject(deps, subject, claimable, { msgId: `claim-${correlationId}`, meta: meta() });
  const attempts = attemptsOf(claim.events);
  if (claim.outcome === 'sent') return { ended: attempts.find((a) => a.outcome !== 'retry')!.outcome };
  if (claim.outcome === 'busy' || claim.outcome === 'later') return { until: claim.until };

  const [url, secret] = await opening;
  if (url === ERASED || secret === ERASED) return 'skipped';
  const release = await deps.hosts.take(URL.canParse(url) ? new URL(url).host : url);
  if (!release)
    return { until: new Date(deps.now().getTime() + 500 + (deps.random ?? Math.random)() * 1_000).toISOString() };

  const attempt = attempts.length + 1;
  const webhookId = webhookIdOf(reference, channel.channelId);
  const sentAt = deps.now();
  const body = messageBody(channel.format, content, sentAt);
  const headers = channel.format === 'json' ? signedHeaders(secret, webhookId, sentAt, body) : {};
  let result;
  try {
    result = await guardedPost(deps.agent, deps.policy, url, body, headers, deps.limits);
  } finally {
    release();
  }
  // Likewise the records of the requests that ended in one turn.
  await sameTurn();
  const firstAttemptAt = attempts[0]?.firstAttemptAt ?? sentAt.toISOString();
  const outcome = attemptOutcome(
    result,
    attempt,
    { now: deps.now(), firstAttemptAt: new Date(firstAttemptAt) },
    deps.retry,
    deps.random,
  );
  const attempted = event('WebhookAttempted', {
    channelId: channel.channelId,
    userId: channel.userId,
    reference,
    webhookId,
    attempt,
    ...outcome,
    firstAttemptAt,
  });
  await recordAfterClaim(deps, subject, claimable, attempted, {
    after: claim,
    msgId: `attempt-${attempt}-${correlationId}`,
    meta: meta(),
  });
  // The channel by its id, never its URL (personal) nor anything the endpoint answered.
  deps.logger.info(
    { channelId: channel.channelId, reference, attempt, outcome: outcome.outcome, detail: outcome.detail },
    'webhook attempt',
  );
  return outcome.outcome === 'retry' ? { until: outcome.retryAt! } : { ended: outcome.outcome };
}
