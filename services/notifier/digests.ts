import { event, subjects, type EventOf } from '../../events/index.ts';
import { UnstorableMessageError } from '../../platform/eventStore/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { READ_MODELS_CHECKPOINT, waitForProjection } from '../../platform/projectionWait.ts';
import { unsubscribeToken } from '../../platform/tokens.ts';
import type { CrossedAlert } from './crossing.ts';
import { revealRecipient } from './transactionalEmails.ts';
import { claimEmail } from './emailClaims.ts';
import { sendClaimed } from './emailDelivery.ts';
import { alertDigestEmail, messageIdFor } from './emails.ts';
import { findCrossedAlerts } from './matchCrossedAlerts.ts';
import type { TransactionalDeps } from './transactionalEmails.ts';

/** What a digest needs beyond a link email: the read models it finds crossings in. */
export type DigestDeps = TransactionalDeps & {
  pool: Pool;
  schema: string;
  /** How long a digest waits for the projector to apply its user's latest events before it is looked at again later. */
  projectionWaitMs?: number;
  /** How many users' digests are worked on at once. */
  concurrency?: number;
};

/** A user's digest of a run that can never be stored (UnstorableMessageError): parked, not retried. */
export type ParkedDigest = { userId: string; triggers: number; reason: string };

/**
 * `waiting`: digests another instance is sending right now, or that the mail server could not take for now; the run is
 * looked at again after `retryAfter`. `undeliverable`: digests the mail server refused for good (or that failed for
 * 24 h). `parked`: digests that can never be stored; the other users' digests of the run go on without them.
 */
export type RunOutcome = {
  triggered: number;
  users: number;
  emailed: number;
  skipped: number;
  waiting: number;
  undeliverable: number;
  parked: ParkedDigest[];
  retryAfter?: string;
};
/**
 * `another`: another instance has sent this digest, or holds the claim on it until `until`; `later`: the read models
 * are not there yet, look again then.
 */
type DigestResult =
  | 'emailed'
  | 'skipped'
  | 'undeliverable'
  | { another: 'sent' }
  | { another: 'busy'; until: string }
  | { later: string }
  | { parked: string };

/** How long a worker waits in place for another instance's live claim on a digest before leaving it to a later look. */
const WAIT_IN_PLACE_MS = 10_000;

/** How many users ahead of the digests their keys are read (each a round trip), so a digest seldom waits for one. */
const KEYS_AHEAD = 64;

const meta = (deps: DigestDeps, id: string) => ({
  occurredAt: deps.now().toISOString(),
  correlationId: id,
  causationId: id,
});

type Recipient = {
  username: string;
  email: string;
  status: string;
  alert_emails_paused: boolean;
  /** The mail server refused this address for good (EmailUndeliverable): its alert emails are paused. */
  address_refused: boolean;
  /** One of the alerts that crossed still has its row: an erased account's alerts have none. */
  alert_kept: boolean;
};
/** The recipients of a run as the read models have them, and how far the projector had applied the log then. */
type Recipients = { checkpoint: number; byUser: Map<string, Recipient> };

/**
 * Each user with one alert of theirs that crossed: their account row and whether that alert still has its row, in one
 * query (one snapshot), with the projector's checkpoint of that same snapshot.
 */
async function readRecipients(deps: DigestDeps, probes: readonly { userId: string; alertId: string }[]) {
  const t = tablesIn(deps.schema);
  const found = await deps.pool.query<
    Partial<Recipient> & { user_id: string; alert_kept: boolean; checkpoint: string }
  >(
    `SELECT w.user_id, u.username, u.email, u.status, u.alert_emails_paused, u.refused_email = u.email AS address_refused,
            EXISTS (SELECT FROM ${t('alerts')} a WHERE a.alert_id = w.alert_id AND a.user_id = w.user_id) AS alert_kept,
            (SELECT seq FROM ${t('checkpoints')} WHERE name = $3) AS checkpoint
     FROM unnest($1::text[], $2::text[]) AS w(user_id, alert_id) LEFT JOIN ${t('users')} u ON u.user_id = w.user_id`,
    [probes.map((p) => p.userId), probes.map((p) => p.alertId), READ_MODELS_CHECKPOINT],
  );
  const recipients: Recipients = { checkpoint: Number(found.rows[0]?.checkpoint ?? 0), byUser: new Map() };
  for (const { user_id, checkpoint: _, ...row } of found.rows)
    if (row.username !== null && row.username !== undefined) recipients.byUser.set(user_id, row as Recipient);
  return recipients;
}

/**
 * The recipient of a user's digest as of now, or `gone` when the person whose alerts crossed is no longer there: their
 * account was erased (its row, or the alert's, is gone), or erased and registered anew by someone else (the alerts of
 * the run are not the new account's). The snapshot serves while the user's own subject has nothing newer than it;
 * otherwise (a login since, an erasure…) the user is read again once the projector has applied their subject.
 * `wait`: the projector has not got there in time, look again later.
 */
async function recipientNow(
  deps: DigestDeps,
  snapshot: Recipients,
  userId: string,
  alertId: string,
): Promise<Recipient | 'gone' | 'wait'> {
  let recipients = snapshot;
  const last = await deps.store.lastSeqOf(subjects.user(deps.ns, userId));
  if (last > snapshot.checkpoint) {
    if (!(await waitForProjection(deps.pool, deps.schema, last, deps.projectionWaitMs ?? 10_000))) return 'wait';
    recipients = await readRecipients(deps, [{ userId, alertId }]);
  }
  const recipient = recipients.byUser.get(userId);
  return recipient?.alert_kept ? recipient : 'gone';
}

/**
 * One run: find every crossed alert (one set-based query), then per user record the triggers and send one digest.
 * Each (run, user) has its own subject, so retries and racing notifiers record the triggers once and send each
 * digest once (the Message-ID is deterministic should a crash fall between send and record).
 *
 * `helping`: another instance took the run from the log and announced it (runHelp.ts); this one works through the
 * users from the other end and stops where it meets that instance's digests. The instance that took the run stays
 * answerable for all of it: it goes on to the end, and waits for or takes over what a helper has claimed.
 */
export async function notifyRun(
  deps: DigestDeps,
  run: { seq: number; asOf: string },
  options: { helping?: boolean } = {},
): Promise<RunOutcome> {
  const crossed = await findCrossedAlerts(deps.pool, tablesIn(deps.schema), run.seq);
  const byUser = new Map<string, CrossedAlert[]>();
  for (const c of crossed) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const outcome: RunOutcome = {
    triggered: crossed.length,
    users: byUser.size,
    emailed: 0,
    skipped: 0,
    waiting: 0,
    undeliverable: 0,
    parked: [],
  };
  // Every recipient of the run in one query, not one per user.
  const recipients = await readRecipients(
    deps,
    [...byUser].map(([userId, alerts]) => ({ userId, alertId: alerts[0]!.alertId })),
  );
  // The same order in every instance, so that a helper working from the other end meets the taker once, in the middle.
  const users = [...byUser].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (options.helping) users.reverse();
  let met = false;
  // Recipients' keys read ahead of the workers, in the order they take users (a read under way is shared, and a
  // failed one is simply read again when the digest needs it).
  const order = users.map(([userId]) => userId);
  const readKeyOf = (k: number) => {
    const userId = order[k];
    if (userId) void deps.personal.keys.current(userId).catch(() => undefined);
  };
  for (let k = 0; k < KEYS_AHEAD; k++) readKeyOf(k);
  let taken = 0;
  const digest = async (userId: string, alerts: CrossedAlert[]): Promise<DigestResult> => {
    const inPlaceUntil = deps.now().getTime() + WAIT_IN_PLACE_MS;
    for (;;) {
      const result = await digestForUser(deps, run, userId, alerts, recipients).catch((error: unknown) => {
        if (error instanceof UnstorableMessageError) return { parked: error.message };
        throw error;
      });
      // A helper's claim usually ends in its EmailSent within moments: wait for it here rather than look at the
      // whole run again later. A claim that outlasts the wait (its holder died) is left to that later look.
      const busy = typeof result === 'object' && 'another' in result && result.another === 'busy';
      if (!busy || options.helping || deps.now().getTime() >= inPlaceUntil) return result;
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const workers = Array.from({ length: Math.min(deps.concurrency ?? 8, users.length) }, async () => {
    for (let next = users.shift(); next && !met; next = users.shift()) {
      readKeyOf(KEYS_AHEAD + taken++);
      const [userId, alerts] = next;
      const result = await digest(userId, alerts);
      if (result === 'emailed') outcome.emailed++;
      else if (result === 'skipped') outcome.skipped++;
      else if (result === 'undeliverable') outcome.undeliverable++;
      else if ('parked' in result) outcome.parked.push({ userId, triggers: alerts.length, reason: result.parked });
      else if ('another' in result && options.helping) met = true;
      else if ('another' in result && result.another === 'sent') outcome.skipped++;
      else if (!options.helping) {
        const until = 'later' in result ? result.later : result.until;
        outcome.waiting++;
        if (!outcome.retryAfter || until < outcome.retryAfter) outcome.retryAfter = until;
      }
    }
  });
  await Promise.all(workers);
  return outcome;
}

/**
 * One user's digest of a run: record the triggers together with this instance's claim on the email (one append
 * on a new subject), send, record EmailSent. A retry or a racing instance finds the triggers recorded and sends only
 * if the claim is its own or has lapsed (see emailClaims.ts). Nothing is recorded or sent for a person who is gone
 * (their account erased since the run, even mid-digest: a digest claimed before the erasure is never resumed).
 */
async function digestForUser(
  deps: DigestDeps,
  run: { seq: number; asOf: string },
  userId: string,
  alerts: CrossedAlert[],
  recipients: Recipients,
): Promise<DigestResult> {
  const recipient = await recipientNow(deps, recipients, userId, alerts[0]!.alertId);
  if (recipient === 'gone') return 'skipped';
  if (recipient === 'wait') return { later: new Date(deps.now().getTime() + 2_000).toISOString() };
  const subject = subjects.digest(deps.ns, run.seq, userId);
  const reference = `${run.seq}.${userId}`;
  const first = alerts.map((a) =>
    event('AlertTriggered', {
      alertId: a.alertId,
      userId,
      runSeq: run.seq,
      base: a.base,
      quote: a.quote,
      kind: a.kind,
      ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
      ...(a.percent !== undefined ? { percent: a.percent, runs: a.runs } : {}),
      alertDirection: a.alertDirection,
      repeat: a.repeat,
      previousRatio: a.previousRatio,
      currentRatio: a.currentRatio,
      direction: a.direction,
    }),
  );
  const claim = await claimEmail(
    deps,
    subject,
    { userId, kind: 'alert-digest', reference },
    { msgId: `triggers-${run.seq}-${userId}`, meta: meta(deps, `run-${run.seq}`), first },
  );
  if (claim.outcome === 'sent') return { another: 'sent' };
  if (claim.outcome === 'busy') return { another: 'busy', until: claim.until };
  if (claim.outcome === 'later') return { later: claim.until };
  if (recipient.status !== 'registered' || recipient.alert_emails_paused || recipient.address_refused) return 'skipped';
  const to = await revealRecipient(deps.personal, userId, recipient);
  if (!to) return 'skipped';

  // What the log recorded for this run is what the digest tells, even if this instance found other crossings.
  const triggers = claim.events
    .filter((e): e is EventOf<'AlertTriggered'> => e.type === 'AlertTriggered')
    .map((e) => e.data);
  const email = alertDigestEmail({
    username: to.username,
    alertsUrl: `${deps.publicUrl}/alerts`,
    unsubscribeUrl: `${deps.publicUrl}/unsubscribe?token=${encodeURIComponent(unsubscribeToken(deps.linkSecret, userId))}`,
    asOf: run.asOf,
    triggers: triggers.map(({ base, quote, alertId: _, userId: __, runSeq: ___, ...t }) => ({
      pair: `${base}/${quote}`,
      ...t,
    })),
  });
  const delivered = await sendClaimed(deps, subject, claim, {
    userId,
    kind: 'alert-digest',
    reference,
    to: { plain: to.email, sealed: recipient.email },
    messageId: messageIdFor('alert-digest', reference, deps.mailDomain),
    content: email,
    sentMsgId: `digest-sent-${run.seq}-${userId}`,
    meta: meta(deps, `run-${run.seq}`),
  });
  if (delivered === 'sent') return 'emailed';
  return 'deferredUntil' in delivered ? { later: delivered.deferredUntil } : 'undeliverable';
}
