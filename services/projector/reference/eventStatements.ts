import { match } from 'ts-pattern';
import { alertRule, type AlertRuleFields, type DomainEvent, type EventData } from '../../../events/index.ts';
import type { TableNamer } from '../../../platform/postgres.ts';
import type { ParkedRow } from '../storedMessage.ts';
import { activityLine } from './activityLine.ts';
import { channelStatements } from './channelStatements.ts';
import { refusedAccountAddress } from './refusedAddress.ts';

export type Statement = { text: string; values: unknown[] };
export type EventContext = { seq: number; position: number; occurredAt: string };

/** A run's one statement: the rates go in only with a new run, so a duplicate publication adds nothing. */
function rateRunStatement(
  event: Extract<DomainEvent, { type: 'RatesFetched' }>,
  seq: number,
  t: TableNamer,
): Statement {
  const { data } = event;
  const currencies = Object.keys(data.rates);
  return {
    text: `WITH run AS (
             INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING RETURNING run_seq)
           INSERT INTO ${t('rates')} (run_seq, currency, rate)
           SELECT run.run_seq, c, r::numeric FROM run, unnest($6::text[], $7::text[]) AS x(c, r)`,
    values: [
      seq,
      data.provider,
      data.base,
      data.asOf,
      data.fetchedAt,
      currencies,
      currencies.map((c) => data.rates[c]),
    ],
  };
}

/**
 * An erasure (AccountErased): every row of the user leaves every read model, in one statement. Rows keyed by the user
 * go by their user_id; a parked message goes when its subject or body names the user (user, digest and email subjects
 * carry the user id). An event of the user that comes after it (a new account under the same username) starts afresh.
 */
export function erasureStatement(userId: string, t: TableNamer): Statement {
  const byUser = ['users', 'sessions', 'alerts', 'alert_triggers', 'emails_sent', 'activity', 'channels'] as const;
  return {
    text: `WITH ${byUser.map((table) => `erase_${table} AS (DELETE FROM ${t(table)} WHERE user_id = $1)`).join(', ')},
           erase_parked AS (DELETE FROM ${t('parked_events')} WHERE strpos(subject, $1) > 0 OR strpos(body, $1) > 0)
           SELECT 1`,
    values: [userId],
  };
}

/** An alert's rule as the alerts table's columns (null where its kind has none), the same for both projector paths. */
export function ruleColumns(fields: AlertRuleFields) {
  const rule = alertRule(fields);
  return {
    kind: rule.kind,
    threshold: rule.kind === 'threshold' ? rule.threshold : null,
    percent: rule.kind === 'change' ? rule.percent : null,
    runs: rule.kind === 'change' ? rule.runs : null,
    direction: rule.direction,
    repeat: rule.repeat,
    expires: rule.expires ?? null,
  };
}
export type RuleColumns = ReturnType<typeof ruleColumns>;

/** The erasure confirmation is sent after its account is gone: it leaves no row (it would be a row of the erased user). */
export const leavesEmailRow = (kind: EventData<'EmailSent'>['kind']) => kind !== 'account-erased';

/**
 * The SQL that one event makes to the read models, one event at a time: the reference the set-based batch
 * (batch/: tableChanges + setStatements) must match, and what the projector falls back to when a batch is refused.
 * Pure: the projector runs it in the same transaction as its checkpoint. Times come from the envelope.
 */
export function statementsFor(event: DomainEvent, ctx: EventContext, t: TableNamer): Statement[] {
  const at = ctx.occurredAt;
  const changes: Statement[] = match(event)
    .with({ type: 'RegistrationRequested' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('users')} (user_id, username, email, email_lookup, status, pending_expires_at, updated_seq)
               VALUES ($1, $2, $3, $6, 'pending', $4, $5)
               ON CONFLICT (user_id) DO UPDATE SET email = $3, email_lookup = coalesce($6, users.email_lookup), status = 'pending', pending_expires_at = $4, registered_at = NULL, updated_seq = $5`,
        values: [data.userId, data.username, data.email, data.expiresAt, ctx.seq, data.emailLookup ?? null],
      },
    ])
    .with({ type: 'VerificationReissued' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET pending_expires_at = $2, updated_seq = $3 WHERE user_id = $1`,
        values: [data.userId, data.expiresAt, ctx.seq],
      },
    ])
    .with({ type: 'UserRegistered' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET status = 'registered', registered_at = $2, pending_expires_at = NULL, updated_seq = $3 WHERE user_id = $1`,
        values: [data.userId, at, ctx.seq],
      },
    ])
    .with({ type: 'RegistrationExpired' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET status = 'expired', updated_seq = $2 WHERE user_id = $1`,
        values: [data.userId, ctx.seq],
      },
    ])
    .with({ type: 'UserLoggedIn' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('sessions')} (session_id, user_id, opened_at, expires_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        values: [data.sessionId, data.userId, at, data.expiresAt],
      },
    ])
    .with({ type: 'UserLoggedOut' }, ({ data }) => [
      {
        text: `UPDATE ${t('sessions')} SET closed_at = $2 WHERE session_id = $1 AND closed_at IS NULL`,
        values: [data.sessionId, at],
      },
    ])
    .with({ type: 'PasswordResetRequested' }, () => [])
    .with({ type: 'PasswordChanged' }, ({ data }) => [
      {
        text: `UPDATE ${t('sessions')} SET closed_at = $2 WHERE session_id = ANY($1::uuid[]) AND closed_at IS NULL`,
        values: [data.endedSessionIds, at],
      },
    ])
    .with({ type: 'SessionsEnded' }, ({ data }) => [
      {
        text: `UPDATE ${t('sessions')} SET closed_at = $2 WHERE session_id = ANY($1::uuid[]) AND closed_at IS NULL`,
        values: [data.sessionIds, at],
      },
    ])
    // A requested address is no account's address until its link is followed: the users row keeps the current one.
    .with({ type: 'EmailChangeRequested' }, () => [])
    .with({ type: 'EmailChanged' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET email = $2, email_lookup = $4, updated_seq = $3 WHERE user_id = $1`,
        values: [data.userId, data.email, ctx.seq, data.emailLookup],
      },
    ])
    .with({ type: 'AlertEmailsPaused' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET alert_emails_paused = true, updated_seq = $2 WHERE user_id = $1`,
        values: [data.userId, ctx.seq],
      },
    ])
    .with({ type: 'AlertEmailsResumed' }, ({ data }) => [
      {
        text: `UPDATE ${t('users')} SET alert_emails_paused = false, refused_email = NULL, refused_detail = NULL, refused_at = NULL, updated_seq = $2 WHERE user_id = $1`,
        values: [data.userId, ctx.seq],
      },
    ])
    .with({ type: 'AlertSet' }, ({ data }) => {
      const r = ruleColumns(data);
      return [
        {
          text: `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, kind, threshold, threshold_text, percent, percent_text, runs, direction, repeat, expires, set_seq, set_at, active_seq, armed_seq)
                 VALUES ($1, $2, $3, $4, $5, $6::numeric, $6, $7::numeric, $7, $8, $9, $10, $11, $12, $13, $12, $12) ON CONFLICT DO NOTHING`,
          values: [
            data.alertId,
            data.userId,
            data.base,
            data.quote,
            r.kind,
            r.threshold,
            r.percent,
            r.runs,
            r.direction,
            r.repeat,
            r.expires,
            ctx.seq,
            at,
          ],
        },
      ];
    })
    // An edit arms the alert again and is its new definition from here on (the notifier's "active since").
    .with({ type: 'AlertEdited' }, ({ data }) => {
      const r = ruleColumns(data);
      return [
        {
          text: `UPDATE ${t('alerts')} SET kind = $2, threshold = $3::numeric, threshold_text = $3, percent = $4::numeric, percent_text = $4, runs = $5,
                   direction = $6, repeat = $7, expires = $8, active_seq = $9, armed_seq = $9 WHERE alert_id = $1`,
          values: [data.alertId, r.kind, r.threshold, r.percent, r.runs, r.direction, r.repeat, r.expires, ctx.seq],
        },
      ];
    })
    .with({ type: 'AlertPaused' }, ({ data }) => [
      { text: `UPDATE ${t('alerts')} SET paused_seq = $2 WHERE alert_id = $1`, values: [data.alertId, ctx.seq] },
    ])
    .with({ type: 'AlertResumed' }, ({ data }) => [
      {
        text: `UPDATE ${t('alerts')} SET paused_seq = NULL, active_seq = $2 WHERE alert_id = $1`,
        values: [data.alertId, ctx.seq],
      },
    ])
    .with({ type: 'AlertRearmed' }, ({ data }) => [
      { text: `UPDATE ${t('alerts')} SET armed_seq = $2 WHERE alert_id = $1`, values: [data.alertId, ctx.seq] },
    ])
    .with({ type: 'AlertDeleted' }, ({ data }) => [
      {
        text: `UPDATE ${t('alerts')} SET deleted_seq = $2, deleted_at = $3 WHERE alert_id = $1 AND deleted_seq IS NULL`,
        values: [data.alertId, ctx.seq, at],
      },
    ])
    .with({ type: 'RatesFetched' }, (e) => [rateRunStatement(e, ctx.seq, t)])
    .with({ type: 'AlertTriggered' }, ({ data }) => [
      {
        text: `INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        values: [data.alertId, data.runSeq, data.userId, data.previousRatio, data.currentRatio, data.direction, at],
      },
    ])
    // Who is sending an email matters only to the notifiers, which read it from the email's own subject.
    .with({ type: 'EmailClaimed' }, { type: 'EmailDeferred' }, () => [])
    .with({ type: 'EmailUndeliverable' }, ({ data }) => {
      const refused = refusedAccountAddress(data);
      if (!refused) return [];
      return [
        {
          text: `UPDATE ${t('users')} SET refused_email = $2, refused_detail = $3, refused_at = $4, updated_seq = $5 WHERE user_id = $1`,
          values: [data.userId, refused.email, refused.detail, at, ctx.seq],
        },
      ];
    })
    .with({ type: 'AccountErased' }, ({ data }) => [erasureStatement(data.userId, t)])
    .with({ type: 'EmailSent' }, ({ data }) =>
      leavesEmailRow(data.kind)
        ? [
            {
              text: `INSERT INTO ${t('emails_sent')} (message_id, user_id, kind, reference, sent_at, seq) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
              values: [data.messageId, data.userId, data.kind, data.reference, at, ctx.seq],
            },
          ]
        : [],
    )
    .with(
      { type: 'ChannelAdded' },
      { type: 'ChannelTestRequested' },
      { type: 'ChannelPaused' },
      { type: 'ChannelResumed' },
      { type: 'ChannelDeleted' },
      { type: 'WebhookClaimed' },
      { type: 'WebhookAttempted' },
      (e) => channelStatements(e, ctx, t),
    )
    .exhaustive();
  const history = activityLine(event);
  if (!history) return changes;
  return [
    ...changes,
    {
      text: `INSERT INTO ${t('activity')} (seq, position, user_id, type, summary, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      values: [ctx.seq, ctx.position, history.userId, event.type, history.summary, at],
    },
  ];
}

/** Park one message: kept as stored, so it can be replayed once the code understands it. */
export function parkStatement(row: ParkedRow, t: TableNamer): Statement {
  return {
    text: `INSERT INTO ${t('parked_events')} (seq, subject, reason, headers, body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    values: [row.seq, row.subject, row.reason, row.headers, row.body],
  };
}
