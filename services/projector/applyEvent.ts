import { match } from 'ts-pattern';
import type { DomainEvent } from '../../events/index.ts';
import type { TableNamer } from '../../platform/postgres.ts';

/** One SQL statement; `appendOnly` ones touch rows nothing else in a batch touches, so they may run last. */
export type Statement = { text: string; values: unknown[]; appendOnly?: boolean };
export type EventContext = { seq: number; position: number; occurredAt: string };

const pair = (base: string, quote: string) => `${base}/${quote}`;

/**
 * The SQL that one event makes to the read models. Pure: it returns statements, the projector runs them
 * in the same transaction as its checkpoint. Times come from the envelope so a rebuild is identical.
 */
export function statementsFor(event: DomainEvent, ctx: EventContext, t: TableNamer): Statement[] {
  const at = ctx.occurredAt;
  const activity = (userId: string, summary: string): Statement => ({
    text: `INSERT INTO ${t('activity')} (seq, position, user_id, type, summary, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    values: [ctx.seq, ctx.position, userId, event.type, summary, at],
    appendOnly: true,
  });
  return match(event)
    .with({ type: 'RegistrationRequested' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('users')} (user_id, username, email, status, pending_expires_at, updated_seq)
               VALUES ($1, $2, $3, 'pending', $4, $5)
               ON CONFLICT (user_id) DO UPDATE SET email = $3, status = 'pending', pending_expires_at = $4, registered_at = NULL, updated_seq = $5`,
        values: [data.userId, data.username, data.email, data.expiresAt, ctx.seq],
      },
    ])
    .with({ type: 'VerificationReissued' }, ({ data }) => [
      { text: `UPDATE ${t('users')} SET pending_expires_at = $2, updated_seq = $3 WHERE user_id = $1`, values: [data.userId, data.expiresAt, ctx.seq] },
    ])
    .with({ type: 'UserRegistered' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET status = 'registered', registered_at = $2, pending_expires_at = NULL, updated_seq = $3 WHERE user_id = $1`,
        values: [data.userId, at, ctx.seq],
      },
      activity(data.userId, `Registered as ${data.username}`),
    ])
    .with({ type: 'RegistrationExpired' }, ({ data }) => [
      { text: `UPDATE ${t('users')} SET status = 'expired', updated_seq = $2 WHERE user_id = $1`, values: [data.userId, ctx.seq] },
    ])
    .with({ type: 'UserLoggedIn' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('sessions')} (session_id, user_id, opened_at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        values: [data.sessionId, data.userId, at, data.expiresAt],
      },
      activity(data.userId, 'Logged in'),
    ])
    .with({ type: 'UserLoggedOut' }, ({ data }) => [
      { text: `UPDATE ${t('sessions')} SET closed_at = $2 WHERE session_id = $1 AND closed_at IS NULL`, values: [data.sessionId, at] },
      activity(data.userId, 'Logged out'),
    ])
    .with({ type: 'PasswordResetRequested' }, ({ data }) => [activity(data.userId, 'Asked for a password reset link')])
    .with({ type: 'PasswordChanged' }, ({ data }) => [
      { text: `UPDATE ${t('sessions')} SET closed_at = $2 WHERE session_id = ANY($1::uuid[]) AND closed_at IS NULL`, values: [data.endedSessionIds, at] },
      activity(data.userId, 'Changed the password; every session was ended'),
    ])
    .with({ type: 'AlertEmailsPaused' }, ({ data }) => [
      { text: `UPDATE ${t('users')} SET alert_emails_paused = true, updated_seq = $2 WHERE user_id = $1`, values: [data.userId, ctx.seq] },
      activity(data.userId, 'Paused alert emails'),
    ])
    .with({ type: 'AlertEmailsResumed' }, ({ data }) => [
      { text: `UPDATE ${t('users')} SET alert_emails_paused = false, updated_seq = $2 WHERE user_id = $1`, values: [data.userId, ctx.seq] },
      activity(data.userId, 'Turned alert emails back on'),
    ])
    .with({ type: 'AlertSet' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at)
               VALUES ($1, $2, $3, $4, $5::numeric, $5, $6, $7) ON CONFLICT DO NOTHING`,
        values: [data.alertId, data.userId, data.base, data.quote, data.threshold, ctx.seq, at],
      },
      activity(data.userId, `Set an alert on ${pair(data.base, data.quote)} at ${data.threshold}`),
    ])
    .with({ type: 'AlertDeleted' }, ({ data }) => [
      { text: `UPDATE ${t('alerts')} SET deleted_seq = $2, deleted_at = $3 WHERE alert_id = $1 AND deleted_seq IS NULL`, values: [data.alertId, ctx.seq, at] },
      activity(data.userId, 'Deleted an alert'),
    ])
    .with({ type: 'RatesFetched' }, ({ data }) => {
      const currencies = Object.keys(data.rates);
      // One statement: the rates go in only with a new run, so a duplicate publication adds nothing.
      return [
        {
          text: `WITH run AS (
                   INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, $5)
                   ON CONFLICT DO NOTHING RETURNING run_seq)
                 INSERT INTO ${t('rates')} (run_seq, currency, rate)
                 SELECT run.run_seq, c, r::numeric FROM run, unnest($6::text[], $7::text[]) AS x(c, r)`,
          values: [ctx.seq, data.provider, data.base, data.asOf, data.fetchedAt, currencies, currencies.map((c) => data.rates[c])],
        },
      ];
    })
    .with({ type: 'AlertTriggered' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        values: [data.alertId, data.runSeq, data.userId, data.previousRatio, data.currentRatio, data.direction, at],
      },
      activity(data.userId, `Alert ${pair(data.base, data.quote)} at ${data.threshold} triggered: ${data.previousRatio} → ${data.currentRatio} (${data.direction})`),
    ])
    // Who is sending an email matters only to the notifiers, which read it from the email's own subject.
    .with({ type: 'EmailClaimed' }, () => [])
    .with({ type: 'EmailSent' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('emails_sent')} (message_id, user_id, kind, reference, sent_at, seq) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        values: [data.messageId, data.userId, data.kind, data.reference, at, ctx.seq],
      },
      activity(data.userId, `Email sent: ${data.kind.replace('-', ' ')}`),
    ])
    .exhaustive();
}
