import type { TableNamer } from '../../platform/postgres.ts';
import { rateRunStatement, type Statement } from './applyEvent.ts';
import { columnLiteral as column } from './arrayLiteral.ts';
import type { TableChanges } from './tableChanges.ts';

/**
 * A batch's changes as a handful of set-based statements (one array parameter per column, unnest()ed),
 * whatever its size. Order matters only within a table: updates of existing rows before the inserts of new
 * ones (see TableChanges). Inserts that may repeat a key keep log order, so ON CONFLICT keeps the first.
 */
export function setStatements(changes: TableChanges, t: TableNamer): Statement[] {
  const out: Statement[] = [];
  const { userChanges: uc, newUsers: nu, sessionCloses: sc, newSessions: ns, alertDeletions: ad, newAlerts: na } = changes;
  if (uc.length + sc.length + ad.length > 0) {
    // A batch changes a few rows of large tables: find each by its key. Costed for disk, a hash join would
    // read the whole table every batch instead. (A rebuild's young tables have no statistics either: that is
    // why "still open" is decided in SET, not WHERE, where the planner would take it for a selective filter.)
    out.push({ text: `SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`, values: [] });
  }
  if (uc.length > 0) {
    out.push({
      text: `UPDATE ${t('users')} AS u SET
               email = coalesce(x.email, u.email),
               status = coalesce(x.status, u.status),
               pending_expires_at = CASE WHEN x.sets_pending_expires_at THEN x.pending_expires_at ELSE u.pending_expires_at END,
               registered_at = CASE WHEN x.sets_registered_at THEN x.registered_at ELSE u.registered_at END,
               alert_emails_paused = coalesce(x.alert_emails_paused, u.alert_emails_paused),
               updated_seq = x.updated_seq
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::timestamptz[], $6::bool[], $7::timestamptz[], $8::bool[], $9::bigint[])
               AS x(user_id, email, status, sets_pending_expires_at, pending_expires_at, sets_registered_at, registered_at, alert_emails_paused, updated_seq)
             WHERE u.user_id = x.user_id`,
      values: [
        column(uc, (c) => c.userId),
        column(uc, (c) => c.email ?? null),
        column(uc, (c) => c.status ?? null),
        column(uc, (c) => c.pendingExpiresAt !== undefined),
        column(uc, (c) => c.pendingExpiresAt ?? null),
        column(uc, (c) => c.registeredAt !== undefined),
        column(uc, (c) => c.registeredAt ?? null),
        column(uc, (c) => c.alertEmailsPaused ?? null),
        column(uc, (c) => c.updatedSeq),
      ],
    });
  }
  if (nu.length > 0) {
    out.push({
      text: `INSERT INTO ${t('users')} (user_id, username, email, status, pending_expires_at, registered_at, alert_emails_paused, updated_seq)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::bool[], $8::bigint[])
             ON CONFLICT (user_id) DO NOTHING`,
      values: [
        column(nu, (u) => u.userId), column(nu, (u) => u.username), column(nu, (u) => u.email), column(nu, (u) => u.status),
        column(nu, (u) => u.pendingExpiresAt), column(nu, (u) => u.registeredAt), column(nu, (u) => u.alertEmailsPaused), column(nu, (u) => u.updatedSeq),
      ],
    });
  }
  if (changes.overwrittenTimestamps.length > 0) {
    // Nothing stores these, but Postgres must still read each, as it would have one event at a time.
    out.push({ text: 'SELECT $1::timestamptz[]', values: [column(changes.overwrittenTimestamps, (ts) => ts)] });
  }
  if (sc.length > 0) {
    out.push({
      text: `UPDATE ${t('sessions')} AS s SET closed_at = coalesce(s.closed_at, x.closed_at)
             FROM unnest($1::uuid[], $2::timestamptz[]) AS x(session_id, closed_at)
             WHERE s.session_id = x.session_id`,
      values: [column(sc, (c) => c.sessionId), column(sc, (c) => c.closedAt)],
    });
  }
  if (ns.length > 0) {
    out.push({
      text: `INSERT INTO ${t('sessions')} (session_id, user_id, opened_at, expires_at, closed_at)
             SELECT session_id, user_id, opened_at, expires_at, closed_at
             FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[]) WITH ORDINALITY
               AS x(session_id, user_id, opened_at, expires_at, closed_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`,
      values: [column(ns, (s) => s.sessionId), column(ns, (s) => s.userId), column(ns, (s) => s.openedAt), column(ns, (s) => s.expiresAt), column(ns, (s) => s.closedAt)],
    });
  }
  if (ad.length > 0) {
    out.push({
      text: `UPDATE ${t('alerts')} AS a
             SET deleted_seq = CASE WHEN a.deleted_seq IS NULL THEN x.deleted_seq ELSE a.deleted_seq END,
                 deleted_at = CASE WHEN a.deleted_seq IS NULL THEN x.deleted_at ELSE a.deleted_at END
             FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS x(alert_id, deleted_seq, deleted_at)
             WHERE a.alert_id = x.alert_id`,
      values: [column(ad, (d) => d.alertId), column(ad, (d) => d.deletedSeq), column(ad, (d) => d.deletedAt)],
    });
  }
  if (na.length > 0) {
    out.push({
      text: `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, deleted_seq, deleted_at)
             SELECT alert_id, user_id, base, quote, threshold::numeric, threshold, set_seq, set_at, deleted_seq, deleted_at
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::bigint[], $9::timestamptz[]) WITH ORDINALITY
               AS x(alert_id, user_id, base, quote, threshold, set_seq, set_at, deleted_seq, deleted_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`,
      values: [
        column(na, (a) => a.alertId), column(na, (a) => a.userId), column(na, (a) => a.base), column(na, (a) => a.quote), column(na, (a) => a.threshold),
        column(na, (a) => a.setSeq), column(na, (a) => a.setAt), column(na, (a) => a.deletedSeq), column(na, (a) => a.deletedAt),
      ],
    });
  }
  for (const run of changes.rateRuns) out.push(rateRunStatement(run.event, run.seq, t));
  const { triggers: tr, emails: em, activity: ac, parked: pk } = changes;
  if (tr.length > 0) {
    out.push({
      text: `INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
             SELECT alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) WITH ORDINALITY
               AS x(alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`,
      values: [
        column(tr, (r) => r.alertId), column(tr, (r) => r.runSeq), column(tr, (r) => r.userId), column(tr, (r) => r.previousRatio),
        column(tr, (r) => r.currentRatio), column(tr, (r) => r.direction), column(tr, (r) => r.triggeredAt),
      ],
    });
  }
  if (em.length > 0) {
    out.push({
      text: `INSERT INTO ${t('emails_sent')} (message_id, user_id, kind, reference, sent_at, seq)
             SELECT message_id, user_id, kind, reference, sent_at, seq
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[]) WITH ORDINALITY
               AS x(message_id, user_id, kind, reference, sent_at, seq, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`,
      values: [column(em, (e) => e.messageId), column(em, (e) => e.userId), column(em, (e) => e.kind), column(em, (e) => e.reference), column(em, (e) => e.sentAt), column(em, (e) => e.seq)],
    });
  }
  if (ac.length > 0) {
    out.push({
      text: `INSERT INTO ${t('activity')} (seq, position, user_id, type, summary, occurred_at)
             SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])`,
      values: [column(ac, (a) => a.seq), column(ac, (a) => a.position), column(ac, (a) => a.userId), column(ac, (a) => a.type), column(ac, (a) => a.summary), column(ac, (a) => a.occurredAt)],
    });
  }
  if (pk.length > 0) {
    out.push({
      text: `INSERT INTO ${t('parked_events')} (seq, subject, reason, headers, body)
             SELECT seq, subject, reason, headers::jsonb, body FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) AS x(seq, subject, reason, headers, body)
             ON CONFLICT DO NOTHING`,
      values: [column(pk, (p) => p.seq), column(pk, (p) => p.subject), column(pk, (p) => p.reason), column(pk, (p) => p.headers), column(pk, (p) => p.body)],
    });
  }
  return out;
}
