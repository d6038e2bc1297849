import { subjects, type DomainEvent, type EventOf } from '../../events/index.ts';
import { ConcurrencyError } from '../../platform/eventStore.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { unsubscribeToken } from '../../platform/tokens.ts';
import type { CrossedAlert } from './crossing.ts';
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

export type RunOutcome = { triggered: number; users: number; emailed: number; skipped: number };

const meta = (deps: DigestDeps, id: string) => ({ occurredAt: deps.now().toISOString(), correlationId: id, causationId: id });

/**
 * One run: find every crossed alert (one set-based query), then per user record the triggers and send
 * one digest. Each (run, user) has its own subject: triggers are appended with expected sequence 0 and
 * EmailSent after them, so retries and racing notifiers record each once and send at most one digest
 * per recorded state (the Message-ID is deterministic should a crash fall between send and record).
 */
type Recipient = { username: string; email: string; status: string; alert_emails_paused: boolean };

export async function notifyRun(deps: DigestDeps, run: { seq: number; asOf: string }): Promise<RunOutcome> {
  const crossed = await findCrossedAlerts(deps.pool, tablesIn(deps.schema), run.seq);
  const byUser = new Map<string, CrossedAlert[]>();
  for (const c of crossed) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const outcome: RunOutcome = { triggered: crossed.length, users: byUser.size, emailed: 0, skipped: 0 };
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
      const sent = await digestForUser(deps, run, userId, alerts, recipients.get(userId));
      if (sent) outcome.emailed++;
      else outcome.skipped++;
    }
  });
  await Promise.all(workers);
  return outcome;
}

type RecordedDigest = { triggers: EventOf<'AlertTriggered'>['data'][]; lastSeq: number; emailed: boolean };

/**
 * Record this user's triggers of the run, once. The subject is new on the first try, so the append with
 * expected sequence 0 is all it takes; only when it is not (a retry, another notifier) is the subject read back.
 */
async function recordTriggers(deps: DigestDeps, subject: string, runSeq: number, userId: string, alerts: CrossedAlert[]): Promise<RecordedDigest> {
  const triggers = alerts.map((a) => ({ alertId: a.alertId, userId, runSeq, base: a.base, quote: a.quote, threshold: a.threshold, previousRatio: a.previousRatio, currentRatio: a.currentRatio, direction: a.direction }));
  const events: DomainEvent[] = triggers.map((data) => ({ type: 'AlertTriggered', data }));
  try {
    const { seq, duplicate } = await deps.store.append(subject, events, { expectedSeq: 0, msgId: `triggers-${runSeq}-${userId}`, meta: meta(deps, `run-${runSeq}`) });
    if (!duplicate) return { triggers, lastSeq: seq, emailed: false };
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error; // recorded already, by us earlier or another notifier
  }
  const { history, lastSeq } = await deps.store.load(subject);
  const recorded = history.flatMap((h) => h.events);
  return {
    triggers: recorded.filter((e): e is EventOf<'AlertTriggered'> => e.type === 'AlertTriggered').map((e) => e.data),
    lastSeq,
    emailed: recorded.some((e) => e.type === 'EmailSent'),
  };
}

async function digestForUser(deps: DigestDeps, run: { seq: number; asOf: string }, userId: string, alerts: CrossedAlert[], recipient: Recipient | undefined): Promise<boolean> {
  const subject = subjects.digest(deps.ns, run.seq, userId);
  const { triggers, lastSeq, emailed } = await recordTriggers(deps, subject, run.seq, userId, alerts);
  if (emailed) return false;
  if (!recipient || recipient.status !== 'registered' || recipient.alert_emails_paused) return false;

  const email = alertDigestEmail({
    username: recipient.username,
    alertsUrl: `${deps.publicUrl}/alerts`,
    unsubscribeUrl: `${deps.publicUrl}/unsubscribe?token=${encodeURIComponent(unsubscribeToken(deps.linkSecret, userId))}`,
    asOf: run.asOf,
    triggers: triggers.map((t) => ({ pair: `${t.base}/${t.quote}`, threshold: t.threshold, previousRatio: t.previousRatio, currentRatio: t.currentRatio, direction: t.direction })),
  });
  const reference = `${run.seq}.${userId}`;
  const messageId = messageIdFor('alert-digest', reference, deps.mailDomain);
  await deps.mailer.send({ to: recipient.email, subject: email.subject, text: email.text, html: email.html, headers: email.headers, messageId });
  try {
    await deps.store.append(subject, [{ type: 'EmailSent', data: { userId, kind: 'alert-digest', messageId, reference } }], {
      expectedSeq: lastSeq,
      msgId: `digest-sent-${run.seq}-${userId}`,
      meta: meta(deps, `run-${run.seq}`),
    });
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error;
  }
  return true;
}
