import type { TableNamer } from '../../../platform/postgres.ts';
import { erasureStatement, type Statement } from '../reference/eventStatements.ts';
import { columnLiteral as column } from './arrayLiteral.ts';
import type { AlertChange, AlertDeletion, TableChanges } from './tableChanges.ts';

/**
 * A batch's changes as one statement (one array parameter per column, unnest()ed), whatever its size and however
 * many rate runs it holds. Each table's change is a data-modifying CTE; they all read the snapshot from before the
 * batch, so an update reaches exactly the rows that existed before it, as TableChanges asks (the rows the batch
 * creates are inserted already in their state at its end). Inserts that may repeat a key keep log order, so ON
 * CONFLICT keeps the first. One statement is one round trip: a rebuild's writer would otherwise wait on a dozen per
 * batch, and on one more per rate run.
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

type AlertUpdate = AlertChange & Partial<Omit<AlertDeletion, 'alertId'>>;

/** One update per alerts row from before the batch: its first deletion and its other changes together. */
function alertUpdates(deletions: readonly AlertDeletion[], changes: readonly AlertChange[]): AlertUpdate[] {
  const byAlert = new Map<string, AlertUpdate>(changes.map((c) => [c.alertId, { ...c }]));
  for (const d of deletions) byAlert.set(d.alertId, { ...byAlert.get(d.alertId), ...d });
  return [...byAlert.values()];
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
               refused_email = CASE WHEN x.sets_refused THEN x.refused_email ELSE u.refused_email END,
               refused_detail = CASE WHEN x.sets_refused THEN x.refused_detail ELSE u.refused_detail END,
               refused_at = CASE WHEN x.sets_refused THEN x.refused_at ELSE u.refused_at END,
               updated_seq = x.updated_seq
             FROM unnest(${col(uc, (c) => c.userId, 'text')}, ${col(uc, (c) => c.email ?? null, 'text')}, ${col(uc, (c) => c.emailLookup ?? null, 'text')}, ${col(uc, (c) => c.status ?? null, 'text')},
                  ${col(uc, (c) => c.pendingExpiresAt !== undefined, 'bool')}, ${col(uc, (c) => c.pendingExpiresAt ?? null, 'timestamptz')},
                  ${col(uc, (c) => c.registeredAt !== undefined, 'bool')}, ${col(uc, (c) => c.registeredAt ?? null, 'timestamptz')},
                  ${col(uc, (c) => c.alertEmailsPaused ?? null, 'bool')},
                  ${col(uc, (c) => c.refused !== undefined, 'bool')}, ${col(uc, (c) => c.refused?.email ?? null, 'text')},
                  ${col(uc, (c) => c.refused?.detail ?? null, 'text')}, ${col(uc, (c) => c.refused?.at ?? null, 'timestamptz')},
                  ${col(uc, (c) => c.updatedSeq, 'bigint')})
               AS x(user_id, email, email_lookup, status, sets_pending_expires_at, pending_expires_at, sets_registered_at, registered_at, alert_emails_paused,
                    sets_refused, refused_email, refused_detail, refused_at, updated_seq)
             WHERE u.user_id = x.user_id`);
  }
  if (nu.length > 0) {
    parts.push(`INSERT INTO ${t('users')} (user_id, username, email, email_lookup, status, pending_expires_at, registered_at, alert_emails_paused,
               refused_email, refused_detail, refused_at, updated_seq)
             SELECT * FROM unnest(${col(nu, (u) => u.userId, 'text')}, ${col(nu, (u) => u.username, 'text')}, ${col(nu, (u) => u.email, 'text')}, ${col(nu, (u) => u.emailLookup, 'text')},
               ${col(nu, (u) => u.status, 'text')}, ${col(nu, (u) => u.pendingExpiresAt, 'timestamptz')}, ${col(nu, (u) => u.registeredAt, 'timestamptz')},
               ${col(nu, (u) => u.alertEmailsPaused, 'bool')}, ${col(nu, (u) => u.refused?.email ?? null, 'text')},
               ${col(nu, (u) => u.refused?.detail ?? null, 'text')}, ${col(nu, (u) => u.refused?.at ?? null, 'timestamptz')},
               ${col(nu, (u) => u.updatedSeq, 'bigint')})
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
  // Deletions and the other changes of rows from before the batch in one UPDATE: a statement updates a row once.
  const au = alertUpdates(ad, changes.alertChanges);
  if (au.length > 0) {
    parts.push(`UPDATE ${t('alerts')} AS a
             SET deleted_seq = CASE WHEN a.deleted_seq IS NULL THEN coalesce(x.deleted_seq, a.deleted_seq) ELSE a.deleted_seq END,
                 deleted_at = CASE WHEN a.deleted_seq IS NULL THEN coalesce(x.deleted_at, a.deleted_at) ELSE a.deleted_at END,
                 kind = CASE WHEN x.sets_rule THEN x.kind ELSE a.kind END,
                 threshold = CASE WHEN x.sets_rule THEN x.threshold::numeric ELSE a.threshold END,
                 threshold_text = CASE WHEN x.sets_rule THEN x.threshold ELSE a.threshold_text END,
                 percent = CASE WHEN x.sets_rule THEN x.percent::numeric ELSE a.percent END,
                 percent_text = CASE WHEN x.sets_rule THEN x.percent ELSE a.percent_text END,
                 runs = CASE WHEN x.sets_rule THEN x.runs ELSE a.runs END,
                 direction = CASE WHEN x.sets_rule THEN x.direction ELSE a.direction END,
                 repeat = CASE WHEN x.sets_rule THEN x.repeat ELSE a.repeat END,
                 expires = CASE WHEN x.sets_rule THEN x.expires ELSE a.expires END,
                 active_seq = coalesce(x.active_seq, a.active_seq),
                 paused_seq = CASE WHEN x.sets_paused THEN x.paused_seq ELSE a.paused_seq END,
                 armed_seq = coalesce(x.armed_seq, a.armed_seq)
             FROM unnest(${col(au, (u) => u.alertId, 'text')}, ${col(au, (u) => u.deletedSeq ?? null, 'bigint')}, ${col(au, (u) => u.deletedAt ?? null, 'timestamptz')},
                  ${col(au, (u) => u.rule !== undefined, 'bool')}, ${col(au, (u) => u.rule?.kind ?? null, 'text')}, ${col(au, (u) => u.rule?.threshold ?? null, 'text')},
                  ${col(au, (u) => u.rule?.percent ?? null, 'text')}, ${col(au, (u) => u.rule?.runs ?? null, 'int')}, ${col(au, (u) => u.rule?.direction ?? null, 'text')},
                  ${col(au, (u) => u.rule?.repeat ?? null, 'text')}, ${col(au, (u) => u.rule?.expires ?? null, 'text')}, ${col(au, (u) => u.activeSeq ?? null, 'bigint')},
                  ${col(au, (u) => u.pausedSeq !== undefined, 'bool')}, ${col(au, (u) => u.pausedSeq ?? null, 'bigint')}, ${col(au, (u) => u.armedSeq ?? null, 'bigint')})
               AS x(alert_id, deleted_seq, deleted_at, sets_rule, kind, threshold, percent, runs, direction, repeat, expires, active_seq, sets_paused, paused_seq, armed_seq)
             WHERE a.alert_id = x.alert_id`);
  }
  if (na.length > 0) {
    parts.push(`INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, kind, threshold, threshold_text, percent, percent_text, runs, direction, repeat, expires,
                 set_seq, set_at, deleted_seq, deleted_at, active_seq, paused_seq, armed_seq)
             SELECT alert_id, user_id, base, quote, kind, threshold::numeric, threshold, percent::numeric, percent, runs, direction, repeat, expires,
                 set_seq, set_at, deleted_seq, deleted_at, active_seq, paused_seq, armed_seq
             FROM unnest(${col(na, (a) => a.alertId, 'text')}, ${col(na, (a) => a.userId, 'text')}, ${col(na, (a) => a.base, 'text')}, ${col(na, (a) => a.quote, 'text')},
               ${col(na, (a) => a.rule.kind, 'text')}, ${col(na, (a) => a.rule.threshold, 'text')}, ${col(na, (a) => a.rule.percent, 'text')}, ${col(na, (a) => a.rule.runs, 'int')},
               ${col(na, (a) => a.rule.direction, 'text')}, ${col(na, (a) => a.rule.repeat, 'text')}, ${col(na, (a) => a.rule.expires, 'text')},
               ${col(na, (a) => a.setSeq, 'bigint')}, ${col(na, (a) => a.setAt, 'timestamptz')},
               ${col(na, (a) => a.deletedSeq, 'bigint')}, ${col(na, (a) => a.deletedAt, 'timestamptz')},
               ${col(na, (a) => a.activeSeq, 'bigint')}, ${col(na, (a) => a.pausedSeq, 'bigint')}, ${col(na, (a) => a.armedSeq, 'bigint')}) WITH ORDINALITY
               AS x(alert_id, user_id, base, quote, kind, threshold, percent, runs, direction, repeat, expires, set_seq, set_at, deleted_seq, deleted_at,
                    active_seq, paused_seq, armed_seq, n)
             ORDER BY n
             ON CONFLICT DO NOTHING`);
  }
  const runs = changes.rateRuns;
  if (runs.length > 0) {
    // As one run at a time: a run already known (its provider and day, or its sequence) adds nothing, in log order.
    const rates = runs.flatMap(({ event, seq }) =>
      Object.entries(event.data.rates).map(([currency, rate]) => ({ seq, currency, rate })),
    );
    parts.push(`INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at)
             SELECT run_seq, provider, base, as_of, fetched_at
             FROM unnest(${col(runs, (r) => r.seq, 'bigint')}, ${col(runs, (r) => r.event.data.provider, 'text')}, ${col(runs, (r) => r.event.data.base, 'text')},
               ${col(runs, (r) => r.event.data.asOf, 'text')}, ${col(runs, (r) => r.event.data.fetchedAt, 'timestamptz')}) WITH ORDINALITY
               AS x(run_seq, provider, base, as_of, fetched_at, n)
             ORDER BY n
             ON CONFLICT DO NOTHING
             RETURNING run_seq`);
    const newRuns = `change${parts.length - 1}`;
    parts.push(`INSERT INTO ${t('rates')} (run_seq, currency, rate)
             SELECT x.run_seq, x.currency, x.rate::numeric
             FROM unnest(${col(rates, (r) => r.seq, 'bigint')}, ${col(rates, (r) => r.currency, 'text')}, ${col(rates, (r) => r.rate, 'text')})
               AS x(run_seq, currency, rate)
             JOIN ${newRuns} USING (run_seq)`);
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
  return out;
}
