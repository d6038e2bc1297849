import type { TableNamer } from '../../../platform/postgres.ts';
import { erasureStatement, rateRunStatement, type Statement } from '../reference/eventStatements.ts';
import { columnLiteral as column } from './arrayLiteral.ts';
import type { TableChanges } from './tableChanges.ts';

/**
 * A batch's changes as one statement (one array parameter per column, unnest()ed), whatever its size, plus one per
 * rate run. Each table's change is a data-modifying CTE; they all read the snapshot from before the batch, so an
 * update reaches exactly the rows that existed before it, as TableChanges asks (the rows the batch creates are
 * inserted already in their state at its end). Inserts that may repeat a key keep log order, so ON CONFLICT keeps
 * the first. One statement is one round trip: a rebuild's writer would otherwise wait on a dozen per batch.
 *
 * The transaction running it sets enable_hashjoin and enable_mergejoin off: a batch changes a few rows of large
 * tables, to be found by their keys (costed for disk, a hash join would read the whole table every batch; a
 * rebuild's young tables have no statistics either, which is why "still open" is decided in SET, not WHERE).
 */
export function setStatements(changes: TableChanges, t: TableNamer): Statement[] {
  const out = segmentStatements(changes, t);
  // An erasure splits the batch: its deletion runs between the changes before it and those after (rare: one more round
  // trip each, where folding it into the set-based changes would need each table to tell apart the two sides of it).
  for (let next = changes.then; next; next = next.changes.then)
    out.push(erasureStatement(next.erasedUserId, t), ...segmentStatements(next.changes, t));
  return out;
}

/** The set-based changes of a batch up to its first erasure (or its end). */
function segmentStatements(changes: TableChanges, t: TableNamer): Statement[] {
  const values: unknown[] = [];
  /** The next parameter, holding one column of rows as an array literal. */
  const col = <Row>(rows: readonly Row[], pick: (row: Row) => string | number | boolean | null, type: string) => {
    values.push(column(rows, pick));
    return `$${values.length}::${type}[]`;
  };
  const parts: string[] = [];
  const {
    userChanges: uc,
    newUsers: nu,
    sessionCloses: sc,
    newSessions: ns,
    alertDeletions: ad,
    newAlerts: na,
  } = changes;
  if (uc.length > 0) {
    parts.push(`UPDATE ${t('users')} AS u SET
               email = coalesce(x.email, u.email),
               email_lookup = coalesce(x.email_lookup, u.email_lookup),
               status = coalesce(x.status, u.status),
               pending_expires_at = CASE WHEN x.sets_pending_expires_at THEN x.pending_expires_at ELSE u.pending_expires_at END,
               registered_at = CASE WHEN x.sets_registered_at THEN x.registered_at ELSE u.registered_at END,
               alert_emails_paused = coalesce(x.alert_emails_paused, u.alert_emails_paused),
               updated_seq = x.updated_seq
             FROM unnest(${col(uc, (c) => c.userId, 'text')}, ${col(uc, (c) => c.email ?? null, 'text')}, ${col(uc, (c) => c.emailLookup ?? null, 'text')}, ${col(uc, (c) => c.status ?? null, 'text')},
                  ${col(uc, (c) => c.pendingExpiresAt !== undefined, 'bool')}, ${col(uc, (c) => c.pendingExpiresAt ?? null, 'timestamptz')},
                  ${col(uc, (c) => c.registeredAt !== undefined, 'bool')}, ${col(uc, (c) => c.registeredAt ?? null, 'timestamptz')},
                  ${col(uc, (c) => c.alertEmailsPaused ?? null, 'bool')}, ${col(uc, (c) => c.updatedSeq, 'bigint')})
               AS x(user_id, email, email_lookup, status, sets_pending_expires_at, pending_expires_at, sets_registered_at, registered_at, alert_emails_paused, updated_seq)
             WHERE u.user_id = x.user_id`);
  }
  if (nu.length > 0) {
    parts.push(`INSERT INTO ${t('users')} (user_id, username, email, email_lookup, status, pending_expires_at, registered_at, alert_emails_paused, updated_seq)
             SELECT * FROM unnest(${col(nu, (u) => u.userId, 'text')}, ${col(nu, (u) => u.username, 'text')}, ${col(nu, (u) => u.email, 'text')}, ${col(nu, (u) => u.emailLookup, 'text')},
               ${col(nu, (u) => u.status, 'text')}, ${col(nu, (u) => u.pendingExpiresAt, 'timestamptz')}, ${col(nu, (u) => u.registeredAt, 'timestamptz')},
               ${col(nu, (u) => u.alertEmailsPaused, 'bool')}, ${col(nu, (u) => u.updatedSeq, 'bigint')})
             ON CONFLICT (user_id) DO NOTHING`);
  }
  if (sc.length > 0) {
    parts.push(`UPDATE ${t('sessions')} AS s SET closed_at = coalesce(s.closed_at, x.closed_at)
             FROM unnest(${col(sc, (c) => c.sessionId, 'uuid')}, ${col(sc, (c) => c.closedAt, 'timestamptz')}) AS x(session_id, closed_at)
             WHERE s.session_id = x.session_id`);
  }
  if (ns.length > 0) {
    parts.push(`INSERT INTO ${t('sessions')} (session_id, user_id, opened_at, expires_at, closed_at)
             SELECT session_id, user_id, opened_at, expires_at, closed_at
             FROM unnest(${col(ns, (s) => s.sessionId, 'uuid')}, ${col(ns, (s) => s.userId, 'text')}, ${col(ns, (s) => s.openedAt, 'timestamptz')},
               ${col(ns, (s) => s.expiresAt, 'timestamptz')}, ${col(ns, (s) => s.closedAt, 'timestamptz')}) WITH ORDINALITY
               AS x(session_id, user_id, opened_at, expires_at, closed_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`);
  }
  if (ad.length > 0) {
    parts.push(`UPDATE ${t('alerts')} AS a
             SET deleted_seq = CASE WHEN a.deleted_seq IS NULL THEN x.deleted_seq ELSE a.deleted_seq END,
                 deleted_at = CASE WHEN a.deleted_seq IS NULL THEN x.deleted_at ELSE a.deleted_at END
             FROM unnest(${col(ad, (d) => d.alertId, 'text')}, ${col(ad, (d) => d.deletedSeq, 'bigint')}, ${col(ad, (d) => d.deletedAt, 'timestamptz')})
               AS x(alert_id, deleted_seq, deleted_at)
             WHERE a.alert_id = x.alert_id`);
  }
  if (na.length > 0) {
    parts.push(`INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, deleted_seq, deleted_at)
             SELECT alert_id, user_id, base, quote, threshold::numeric, threshold, set_seq, set_at, deleted_seq, deleted_at
             FROM unnest(${col(na, (a) => a.alertId, 'text')}, ${col(na, (a) => a.userId, 'text')}, ${col(na, (a) => a.base, 'text')}, ${col(na, (a) => a.quote, 'text')},
               ${col(na, (a) => a.threshold, 'text')}, ${col(na, (a) => a.setSeq, 'bigint')}, ${col(na, (a) => a.setAt, 'timestamptz')},
               ${col(na, (a) => a.deletedSeq, 'bigint')}, ${col(na, (a) => a.deletedAt, 'timestamptz')}) WITH ORDINALITY
               AS x(alert_id, user_id, base, quote, threshold, set_seq, set_at, deleted_seq, deleted_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`);
  }
  const { channelChanges: cc, newChannels: nc } = changes;
  if (cc.length > 0) {
    // A status change reaches a row that is not deleted (as channelStatements' does); the last attempt, any row.
    parts.push(`UPDATE ${t('channels')} AS c SET
               status = CASE WHEN x.status IS NOT NULL AND c.status <> 'deleted' THEN x.status ELSE c.status END,
               paused_for = CASE WHEN x.status IS NOT NULL AND c.status <> 'deleted' THEN x.paused_for ELSE c.paused_for END,
               updated_seq = CASE WHEN x.status IS NOT NULL AND c.status <> 'deleted' THEN x.updated_seq ELSE c.updated_seq END,
               last_reference = CASE WHEN x.sets_last THEN x.last_reference ELSE c.last_reference END,
               last_outcome = CASE WHEN x.sets_last THEN x.last_outcome ELSE c.last_outcome END,
               last_status = CASE WHEN x.sets_last THEN x.last_status ELSE c.last_status END,
               last_detail = CASE WHEN x.sets_last THEN x.last_detail ELSE c.last_detail END,
               last_attempt_at = CASE WHEN x.sets_last THEN x.last_attempt_at ELSE c.last_attempt_at END
             FROM unnest(${col(cc, (c) => c.channelId, 'text')}, ${col(cc, (c) => c.status?.status ?? null, 'text')}, ${col(cc, (c) => c.status?.pausedFor ?? null, 'text')},
               ${col(cc, (c) => c.status?.updatedSeq ?? null, 'bigint')}, ${col(cc, (c) => c.last !== undefined, 'bool')}, ${col(cc, (c) => c.last?.reference ?? null, 'text')},
               ${col(cc, (c) => c.last?.outcome ?? null, 'text')}, ${col(cc, (c) => c.last?.status ?? null, 'int')}, ${col(cc, (c) => c.last?.detail ?? null, 'text')},
               ${col(cc, (c) => c.last?.attemptAt ?? null, 'timestamptz')})
               AS x(channel_id, status, paused_for, updated_seq, sets_last, last_reference, last_outcome, last_status, last_detail, last_attempt_at)
             WHERE c.channel_id = x.channel_id`);
  }
  if (nc.length > 0) {
    parts.push(`INSERT INTO ${t('channels')} (channel_id, user_id, url, format, secret, status, paused_for, added_seq, added_at, updated_seq,
               last_reference, last_outcome, last_status, last_detail, last_attempt_at)
             SELECT * FROM unnest(${col(nc, (c) => c.channelId, 'text')}, ${col(nc, (c) => c.userId, 'text')}, ${col(nc, (c) => c.url, 'text')}, ${col(nc, (c) => c.format, 'text')},
               ${col(nc, (c) => c.secret, 'text')}, ${col(nc, (c) => c.status, 'text')}, ${col(nc, (c) => c.pausedFor, 'text')}, ${col(nc, (c) => c.addedSeq, 'bigint')},
               ${col(nc, (c) => c.addedAt, 'timestamptz')}, ${col(nc, (c) => c.updatedSeq, 'bigint')}, ${col(nc, (c) => c.last?.reference ?? null, 'text')},
               ${col(nc, (c) => c.last?.outcome ?? null, 'text')}, ${col(nc, (c) => c.last?.status ?? null, 'int')}, ${col(nc, (c) => c.last?.detail ?? null, 'text')},
               ${col(nc, (c) => c.last?.attemptAt ?? null, 'timestamptz')})
             ON CONFLICT (channel_id) DO NOTHING`);
  }
  const { triggers: tr, emails: em, activity: ac, parked: pk } = changes;
  if (tr.length > 0) {
    parts.push(`INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
             SELECT alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at
             FROM unnest(${col(tr, (r) => r.alertId, 'text')}, ${col(tr, (r) => r.runSeq, 'bigint')}, ${col(tr, (r) => r.userId, 'text')},
               ${col(tr, (r) => r.previousRatio, 'text')}, ${col(tr, (r) => r.currentRatio, 'text')}, ${col(tr, (r) => r.direction, 'text')},
               ${col(tr, (r) => r.triggeredAt, 'timestamptz')}) WITH ORDINALITY
               AS x(alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`);
  }
  if (em.length > 0) {
    parts.push(`INSERT INTO ${t('emails_sent')} (message_id, user_id, kind, reference, sent_at, seq)
             SELECT message_id, user_id, kind, reference, sent_at, seq
             FROM unnest(${col(em, (e) => e.messageId, 'text')}, ${col(em, (e) => e.userId, 'text')}, ${col(em, (e) => e.kind, 'text')},
               ${col(em, (e) => e.reference, 'text')}, ${col(em, (e) => e.sentAt, 'timestamptz')}, ${col(em, (e) => e.seq, 'bigint')}) WITH ORDINALITY
               AS x(message_id, user_id, kind, reference, sent_at, seq, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`);
  }
  if (ac.length > 0) {
    parts.push(`INSERT INTO ${t('activity')} (seq, position, user_id, type, summary, occurred_at)
             SELECT * FROM unnest(${col(ac, (a) => a.seq, 'bigint')}, ${col(ac, (a) => a.position, 'int')}, ${col(ac, (a) => a.userId, 'text')},
               ${col(ac, (a) => a.type, 'text')}, ${col(ac, (a) => a.summary, 'text')}, ${col(ac, (a) => a.occurredAt, 'timestamptz')})`);
  }
  if (pk.length > 0) {
    parts.push(`INSERT INTO ${t('parked_events')} (seq, subject, reason, headers, body)
             SELECT seq, subject, reason, headers::jsonb, body
             FROM unnest(${col(pk, (p) => p.seq, 'bigint')}, ${col(pk, (p) => p.subject, 'text')}, ${col(pk, (p) => p.reason, 'text')},
               ${col(pk, (p) => p.headers, 'text')}, ${col(pk, (p) => p.body, 'text')}) AS x(seq, subject, reason, headers, body)
             ON CONFLICT DO NOTHING`);
  }
  // Timestamps a later event overwrote: nothing stores them, but Postgres still reads each (binding the parameter
  // parses it), as it would have one event at a time.
  const overwritten =
    changes.overwrittenTimestamps.length > 0
      ? `cardinality(${col(changes.overwrittenTimestamps, (ts) => ts, 'timestamptz')})`
      : '0';
  const out: Statement[] = [];
  if (parts.length > 0 || changes.overwrittenTimestamps.length > 0) {
    const select = `SELECT ${overwritten}`;
    out.push({
      text:
        parts.length > 0 ? `WITH ${parts.map((sql, i) => `change${i} AS (${sql})`).join(',\n')}\n${select}` : select,
      values,
    });
  }
  for (const run of changes.rateRuns) out.push(rateRunStatement(run.event, run.seq, t));
  return out;
}
