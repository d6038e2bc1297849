import { subjects, type DomainEvent, type EventOf, type Namespace } from '../../events/index.ts';
import { ConcurrencyError, type EventStore } from '../../platform/eventStore.ts';
import type { Mailer } from '../../platform/mailer.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import { unsubscribeToken } from '../../platform/tokens.ts';
import type { CrossedAlert } from './crossing.ts';
import { alertDigestEmail, messageIdFor } from './emails.ts';
import { findCrossedAlerts } from './matchCrossedAlerts.ts';

export type DigestDeps = {
  store: EventStore;
  ns: Namespace;
  pool: Pool;
  schema: string;
  mailer: Mailer;
  linkSecret: Buffer;
  publicUrl: string;
  mailDomain: string;
  now: () => Date;
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
export async function notifyRun(deps: DigestDeps, run: { seq: number; asOf: string }): Promise<RunOutcome> {
  const crossed = await findCrossedAlerts(deps.pool, tablesIn(deps.schema), run.seq);
  const byUser = new Map<string, CrossedAlert[]>();
  for (const c of crossed) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const outcome: RunOutcome = { triggered: crossed.length, users: byUser.size, emailed: 0, skipped: 0 };
  const users = [...byUser];
  const workers = Array.from({ length: Math.min(deps.concurrency ?? 8, users.length) }, async () => {
    for (let next = users.shift(); next; next = users.shift()) {
      const [userId, alerts] = next;
      const sent = await digestForUser(deps, run, userId, alerts);
      if (sent) outcome.emailed++;
      else outcome.skipped++;
    }
  });
  await Promise.all(workers);
  return outcome;
}

async function recordTriggers(deps: DigestDeps, subject: string, runSeq: number, userId: string, alerts: CrossedAlert[]): Promise<void> {
  const events: DomainEvent[] = alerts.map((a) => ({
    type: 'AlertTriggered',
    data: { alertId: a.alertId, userId, runSeq, base: a.base, quote: a.quote, threshold: a.threshold, previousRatio: a.previousRatio, currentRatio: a.currentRatio, direction: a.direction },
  }));
  try {
    await deps.store.append(subject, events, { expectedSeq: 0, msgId: `triggers-${runSeq}-${userId}`, meta: meta(deps, `run-${runSeq}`) });
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error; // recorded already, by us earlier or another notifier
  }
}

async function digestForUser(deps: DigestDeps, run: { seq: number; asOf: string }, userId: string, alerts: CrossedAlert[]): Promise<boolean> {
  const subject = subjects.digest(deps.ns, run.seq, userId);
  let { history, lastSeq } = await deps.store.load(subject);
  if (lastSeq === 0) {
    await recordTriggers(deps, subject, run.seq, userId, alerts);
    ({ history, lastSeq } = await deps.store.load(subject));
  }
  const events = history.flatMap((h) => h.events);
  if (events.some((e) => e.type === 'EmailSent')) return false;
  const triggers = events.filter((e): e is EventOf<'AlertTriggered'> => e.type === 'AlertTriggered');

  const user = await deps.pool.query<{ username: string; email: string; status: string; alert_emails_paused: boolean }>(
    `SELECT username, email, status, alert_emails_paused FROM ${tablesIn(deps.schema)('users')} WHERE user_id = $1`,
    [userId],
  );
  const recipient = user.rows[0];
  if (!recipient || recipient.status !== 'registered' || recipient.alert_emails_paused) return false;

  const email = alertDigestEmail({
    username: recipient.username,
    alertsUrl: `${deps.publicUrl}/alerts`,
    unsubscribeUrl: `${deps.publicUrl}/unsubscribe?token=${encodeURIComponent(unsubscribeToken(deps.linkSecret, userId))}`,
    asOf: run.asOf,
    triggers: triggers.map((t) => ({ pair: `${t.data.base}/${t.data.quote}`, threshold: t.data.threshold, previousRatio: t.data.previousRatio, currentRatio: t.data.currentRatio, direction: t.data.direction })),
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
