import { event, subjects, type EventOf } from '../../events/index.ts';
import { UnstorableMessageError } from '../../platform/eventStore/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { unsubscribeToken } from '../../platform/tokens.ts';
import type { CrossedAlert } from './crossing.ts';
import { revealRecipient } from './transactionalEmails.ts';
import { claimEmail, recordSent } from './emailClaims.ts';
import { alertDigestEmail, messageIdFor } from './emails.ts';
import { findCrossedAlerts } from './matchCrossedAlerts.ts';
import type { TransactionalDeps } from './transactionalEmails.ts';

/** What a digest needs beyond a link email: the read models it finds crossings in. */
export type DigestDeps = TransactionalDeps & {
  pool: Pool;
  schema: string;
  /** How many users' digests are worked on at once. */
  concurrency?: number;
};

/** A user's digest of a run that can never be stored (UnstorableMessageError): parked, not retried. */
export type ParkedDigest = { userId: string; triggers: number; reason: string };

/**
 * `waiting`: digests another instance is sending right now; the run is looked at again after `retryAfter`.
 * `parked`: digests that can never be stored; the other users' digests of the run go on without them.
 */
export type RunOutcome = {
  triggered: number;
  users: number;
  emailed: number;
  skipped: number;
  waiting: number;
  parked: ParkedDigest[];
  retryAfter?: string;
};
type DigestResult = 'emailed' | 'skipped' | { until: string } | { parked: string };

const meta = (deps: DigestDeps, id: string) => ({
  occurredAt: deps.now().toISOString(),
  correlationId: id,
  causationId: id,
});

type Recipient = { username: string; email: string; status: string; alert_emails_paused: boolean };

/**
 * One run: find every crossed alert (one set-based query), then per user record the triggers and send one digest.
 * Each (run, user) has its own subject, so retries and racing notifiers record the triggers once and send each
 * digest once (the Message-ID is deterministic should a crash fall between send and record).
 */
export async function notifyRun(deps: DigestDeps, run: { seq: number; asOf: string }): Promise<RunOutcome> {
  const crossed = await findCrossedAlerts(deps.pool, tablesIn(deps.schema), run.seq);
  const byUser = new Map<string, CrossedAlert[]>();
  for (const c of crossed) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const outcome: RunOutcome = {
    triggered: crossed.length,
    users: byUser.size,
    emailed: 0,
    skipped: 0,
    waiting: 0,
    parked: [],
  };
  // Every recipient of the run in one query, not one per user.
  const found = await deps.pool.query<Recipient & { user_id: string }>(
    `SELECT user_id, username, email, status, alert_emails_paused FROM ${tablesIn(deps.schema)('users')} WHERE user_id = ANY($1::text[])`,
    [[...byUser.keys()]],
  );
  const recipients = new Map(found.rows.map((r) => [r.user_id, r]));
  const users = [...byUser];
  const workers = Array.from({ length: Math.min(deps.concurrency ?? 8, users.length) }, async () => {
    for (let next = users.shift(); next; next = users.shift()) {
      const [userId, alerts] = next;
      const result = await digestForUser(deps, run, userId, alerts, recipients.get(userId)).catch((error: unknown) => {
        if (error instanceof UnstorableMessageError) return { parked: error.message };
        throw error;
      });
      if (result === 'emailed') outcome.emailed++;
      else if (result === 'skipped') outcome.skipped++;
      else if ('parked' in result) outcome.parked.push({ userId, triggers: alerts.length, reason: result.parked });
      else {
        outcome.waiting++;
        if (!outcome.retryAfter || result.until < outcome.retryAfter) outcome.retryAfter = result.until;
      }
    }
  });
  await Promise.all(workers);
  return outcome;
}

/**
 * One user's digest of a run: record the triggers together with this instance's claim on the email (one append
 * on a new subject), send, record EmailSent. A retry or a racing instance finds the triggers recorded and sends only
 * if the claim is its own or has lapsed (see emailClaims.ts).
 */
async function digestForUser(
  deps: DigestDeps,
  run: { seq: number; asOf: string },
  userId: string,
  alerts: CrossedAlert[],
  recipient: Recipient | undefined,
): Promise<DigestResult> {
  const subject = subjects.digest(deps.ns, run.seq, userId);
  const reference = `${run.seq}.${userId}`;
  const first = alerts.map((a) =>
    event('AlertTriggered', {
      alertId: a.alertId,
      userId,
      runSeq: run.seq,
      base: a.base,
      quote: a.quote,
      threshold: a.threshold,
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
  if (claim.outcome === 'sent') return 'skipped';
  if (claim.outcome === 'busy') return { until: claim.until };
  if (!recipient || recipient.status !== 'registered' || recipient.alert_emails_paused) return 'skipped';
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
    triggers: triggers.map((t) => ({
      pair: `${t.base}/${t.quote}`,
      threshold: t.threshold,
      previousRatio: t.previousRatio,
      currentRatio: t.currentRatio,
      direction: t.direction,
    })),
  });
  const messageId = messageIdFor('alert-digest', reference, deps.mailDomain);
  await deps.mailer.send({
    to: to.email,
    subject: email.subject,
    text: email.text,
    html: email.html,
    headers: email.headers,
    messageId,
  });
  await recordSent(
    deps,
    subject,
    { type: 'EmailSent', data: { userId, kind: 'alert-digest', messageId, reference } },
    {
      after: claim,
      msgId: `digest-sent-${run.seq}-${userId}`,
      meta: meta(deps, `run-${run.seq}`),
    },
  );
  return 'emailed';
}
