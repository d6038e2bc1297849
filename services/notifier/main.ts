import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { match, P } from 'ts-pattern';
import { decodeEvents, EventDecodeError, eventTypes, Header, isEventType, type EventType } from '../../events/index.ts';
import type { RawMessage } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { notifyRun, type DigestDeps, type RunOutcome } from './digests.ts';
import { mailDomainOf } from './emails.ts';
import { emailRetryPolicy } from './retryPolicy.ts';
import { handleErasure } from './erasure.ts';
import { announceRunTaken, helpWithRunsTaken } from './runHelp.ts';
import { sendEmailChangedNotice, sendLinkEmail } from './transactionalEmails.ts';
import { sendChannelPausedNotice } from './webhooks/pausedNotice.ts';

/** The digest's dependencies, with the sender address (its domain makes Message-IDs) and an optional clock. */
export type NotifierDeps = Omit<DigestDeps, 'mailDomain' | 'now' | 'concurrency' | 'instanceId' | 'claimMs'> & {
  mailFrom: string;
  /** With it, an instance that takes a run tells the others, and each helps with the runs others take (runHelp.ts). */
  nc?: NatsConnection;
  /** This instance in its claims on emails (emailClaims.ts); a caller that gives none is an instance of its own. */
  instanceId?: string;
  /** How long a claim on an email holds; a notifier's durable consumer waits as long for an acknowledgement. */
  claimMs?: number;
  logger: Logger;
  now?: () => Date;
  /** How long a run waits for the projector before it is retried later. */
  projectionWaitMs?: number;
  hooks?: {
    onParked?: (seq: number, reason: string) => void;
    onEmailFailed?: (error: unknown) => void;
    onRun?: (seq: number, outcome: RunOutcome) => void;
  };
};

/** The notifier's durable consumer, shared by its instances (`cra copy-log` carries its place over to a new stream). */
export const NOTIFIER_CONSUMER = 'cra-notifier';

/** The durable consumer's ack wait (platform/eventStore/durableConsumption.ts), and so how long a claim on an email holds. */
export const CLAIM_MS = 120_000;

/** The longest a log message waits to be worked on again: the longest wait between two tries of an email. */
const LONGEST_WAIT_MS = emailRetryPolicy.capMs;

/** How many log messages one instance works on at once: a day's run holds up no link email. */
const MESSAGES_AT_ONCE = 4;

const digestDeps = (deps: NotifierDeps) => ({
  ...deps,
  now: deps.now ?? (() => new Date()),
  mailDomain: mailDomainOf(deps.mailFrom),
  instanceId: deps.instanceId ?? randomUUID(),
  claimMs: deps.claimMs ?? CLAIM_MS,
});

/**
 * Whether the notifier acts on each event type (sends an email, notifies a run, erases): keyed by event type, so a new
 * one does not compile until it is classified here, nor one marked as acted on until handleMessage handles it. A
 * message none of whose events it acts on is acknowledged from its headers alone, its body never decoded: most of a
 * day's log is the notifiers' own records (triggers, claims, emails sent) and the webhook deliverer's.
 */
const actsOn = {
  RegistrationRequested: true,
  VerificationReissued: true,
  PasswordResetRequested: true,
  EmailChangeRequested: true,
  EmailChanged: true,
  RatesFetched: true,
  ChannelPaused: true,
  AccountErased: true,
  UserRegistered: false,
  RegistrationExpired: false,
  UserLoggedIn: false,
  UserLoggedOut: false,
  PasswordChanged: false,
  SessionsEnded: false,
  AlertEmailsPaused: false,
  AlertEmailsResumed: false,
  AlertSet: false,
  AlertEdited: false,
  AlertPaused: false,
  AlertResumed: false,
  AlertRearmed: false,
  AlertDeleted: false,
  AlertTriggered: false,
  EmailClaimed: false,
  EmailSent: false,
  EmailDeferred: false,
  EmailUndeliverable: false,
  // Channels' deliveries are the webhook consumer's (webhooks/delivery.ts), apart from the emails.
  ChannelAdded: false,
  ChannelTestRequested: false,
  ChannelResumed: false,
  ChannelDeleted: false,
  WebhookClaimed: false,
  WebhookAttempted: false,
} as const satisfies Record<EventType, boolean>;
type LeftAlone = { [T in EventType]: (typeof actsOn)[T] extends false ? T : never }[EventType];
const leftAlone = eventTypes.filter((t): t is LeftAlone => !actsOn[t]) as [LeftAlone, ...LeftAlone[]];

/** The message holds only events the notifier leaves alone, as its headers say (unknown types are decoded, and parked). */
function leftAloneByHeaders(raw: RawMessage): boolean {
  const types = raw.headers[Header.type];
  return types !== undefined && types.split(',').every((t) => isEventType(t) && !actsOn[t]);
}

/** What one log message means to the notifier; exported so it is tested without a consumer. */
export async function handleMessage(deps: NotifierDeps, raw: RawMessage): Promise<'ack' | { retryInMs: number }> {
  const base = digestDeps(deps);
  const now = base.now;
  // Until another instance's claim ends (at most CLAIM_MS), or an email that failed for now is due again (at most an
  // hour: retryPolicy.ts): the message is worked on again then, not before.
  const later = (until: string) => ({
    retryInMs: Math.min(LONGEST_WAIT_MS, Math.max(1_000, Date.parse(until) - now().getTime() + 100)),
  });
  if (leftAloneByHeaders(raw)) return 'ack';
  let decoded;
  try {
    decoded = decodeEvents(raw.headers, raw.body);
  } catch (error) {
    if (!(error instanceof EventDecodeError)) throw error;
    deps.logger.warn(
      { seq: raw.seq, subject: raw.subject, reason: error.message },
      'notifier skipped an event it cannot read (parked by the projector)',
    );
    deps.hooks?.onParked?.(raw.seq, error.message);
    return 'ack';
  }
  for (const event of decoded.events) {
    const outcome = await match(event)
      .with(
        { type: 'RegistrationRequested' },
        { type: 'VerificationReissued' },
        { type: 'PasswordResetRequested' },
        { type: 'EmailChangeRequested' },
        async (e) => {
          const result = await sendLinkEmail(base, e, raw.seq);
          deps.logger.info(
            { seq: raw.seq, type: e.type, userId: e.data.userId, correlationId: decoded.meta.correlationId, result },
            'link email',
          );
          return typeof result === 'object' ? later(result.busyUntil) : ('done' as const);
        },
      )
      .with({ type: 'EmailChanged' }, async (e) => {
        const result = await sendEmailChangedNotice(base, e, raw.seq);
        deps.logger.info(
          { seq: raw.seq, type: e.type, userId: e.data.userId, correlationId: decoded.meta.correlationId, result },
          'address change notice',
        );
        return typeof result === 'object' ? later(result.busyUntil) : ('done' as const);
      })
      .with({ type: 'RatesFetched' }, async (e) => {
        // The crossing query reads alerts and rates up to this run: the projector must have applied them; and the
        // triggers recorded so far, some maybe after this run (an earlier run notified late), which tell a once alert
        // that is done already: so the log as it stands now.
        const upTo = Math.max(raw.seq, await deps.store.lastSeq());
        if (!(await waitForProjection(deps.pool, deps.schema, upTo, deps.projectionWaitMs ?? 10_000)))
          return 'wait' as const;
        if (deps.nc) announceRunTaken(deps.nc, deps.ns, { seq: raw.seq, asOf: e.data.asOf, by: base.instanceId });
        const result = await notifyRun(base, { seq: raw.seq, asOf: e.data.asOf });
        for (const parked of result.parked) {
          deps.logger.error(
            { seq: raw.seq, asOf: e.data.asOf, ...parked },
            'parked a digest that can never be stored; the run goes on without it',
          );
          deps.hooks?.onParked?.(raw.seq, parked.reason);
        }
        const { parked, ...counts } = result;
        deps.logger.info(
          {
            seq: raw.seq,
            provider: e.data.provider,
            asOf: e.data.asOf,
            correlationId: decoded.meta.correlationId,
            ...counts,
            parked: parked.length,
          },
          'run notified',
        );
        deps.hooks?.onRun?.(raw.seq, result);
        // Some digests are another instance's right now: look again once its claim has lapsed or it has recorded them.
        return result.retryAfter ? later(result.retryAfter) : ('done' as const);
      })
      .with({ type: 'ChannelPaused' }, async (e) => {
        // Paused by its owner: they know. Paused as failing (webhooks/consumer.ts): they are told, once.
        if (e.data.reason !== 'failing') return 'done' as const;
        const result = await sendChannelPausedNotice(base, e, raw.seq);
        deps.logger.info(
          { seq: raw.seq, userId: e.data.userId, channelId: e.data.channelId, result },
          'channel paused notice',
        );
        return typeof result === 'object' ? later(result.busyUntil) : ('done' as const);
      })
      .with({ type: 'AccountErased' }, async (e) => {
        // The erasure's side effects, all in one place: the confirmation email first, then what is destroyed.
        const result = await handleErasure({ ...base, logger: deps.logger }, { seq: raw.seq, ...e.data });
        return 'busyUntil' in result ? later(result.busyUntil) : ('done' as const);
      })
      // A message may hold one of these beside one acted on (an account's own events come together).
      .with({ type: P.union(...leftAlone) }, async () => 'done' as const)
      .exhaustive();
    if (outcome === 'wait') return { retryInMs: 2_000 };
    if (outcome !== 'done') return outcome;
  }
  return 'ack';
}

/** The notifier service: a durable consumer shared by every instance; a failed email is retried later. */
export function startNotifier(deps: NotifierDeps) {
  const controller = new AbortController();
  const logger = deps.logger.child({ service: 'notifier' });
  const instanceId = deps.instanceId ?? randomUUID();
  const helper =
    deps.nc &&
    helpWithRunsTaken(
      deps.nc,
      deps.ns,
      instanceId,
      async (run) => {
        const base = digestDeps({ ...deps, instanceId, logger });
        if (!(await waitForProjection(deps.pool, deps.schema, run.seq, deps.projectionWaitMs ?? 10_000))) return;
        const result = await notifyRun(base, run, { helping: true });
        const { parked, ...counts } = result;
        logger.info({ ...run, ...counts, parked: parked.length }, 'helped with a run another instance took');
        deps.hooks?.onRun?.(run.seq, result);
      },
      logger,
    );
  const running = (async () => {
    while (!controller.signal.aborted) {
      try {
        await deps.store.consumeDurable(
          NOTIFIER_CONSUMER,
          (raw) => handleMessage({ ...deps, instanceId, logger }, raw),
          {
            signal: controller.signal,
            concurrency: MESSAGES_AT_ONCE,
            onError: (error, raw) => {
              deps.hooks?.onEmailFailed?.(error);
              logger.warn({ err: error, seq: raw.seq, subject: raw.subject }, 'notifier will retry this event');
            },
            onSilence: (missedHeartbeats) =>
              logger.warn({ missedHeartbeats }, 'notifier consumer went silent (its leader moved?): pulling again'),
          },
        );
      } catch (error) {
        if (controller.signal.aborted) break;
        logger.error({ err: error }, 'notifier consumer failed; restarting in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();
  return {
    stop: async () => {
      controller.abort();
      await helper?.stop();
      await running;
    },
  };
}
