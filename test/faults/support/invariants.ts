import { expect } from 'vitest';
import { decodeEvents, Header, type DomainEvent, type EventOf } from '../../../events/index.ts';
import { withProviderBase } from '../../../events/ratio.ts';
import type { EventStore } from '../../../platform/eventStore/index.ts';
import type { Logger } from '../../../platform/logger.ts';
import { quoteIdent, type Pool } from '../../../platform/postgres.ts';
import { crossedAlerts, type AlertRecord, type Run } from '../../../services/notifier/crossing.ts';
import { messageIdFor, type EmailKind } from '../../../services/notifier/emails.ts';
import { readCheckpoint } from '../../../services/projector/projector.ts';
import { compareSchemas, replayInto } from '../../../services/projector/rebuild.ts';
import { MAIL_DOMAIN } from './lab.ts';
import type { AcceptedEmail } from './mailServer.ts';
import type { CommandRecord } from './traffic.ts';

/** One stored message, decoded when it can be (poison keeps its reason). */
export type LogEntry = {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  body: string;
  events: DomainEvent[];
  unreadable?: string;
};

export async function readLog(store: EventStore): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  if ((await store.lastSeq()) === 0) return entries;
  for await (const raw of store.read({ fromSeq: 1 })) {
    const body = new TextDecoder().decode(raw.body);
    try {
      entries.push({
        seq: raw.seq,
        subject: raw.subject,
        headers: raw.headers,
        body,
        events: decodeEvents(raw.headers, raw.body).events,
      });
    } catch (error) {
      entries.push({
        seq: raw.seq,
        subject: raw.subject,
        headers: raw.headers,
        body,
        events: [],
        unreadable: (error as Error).message,
      });
    }
  }
  return entries;
}

const eventsOf = <T extends DomainEvent['type']>(log: LogEntry[], type: T) =>
  log.flatMap((m) =>
    m.events
      .filter((e): e is EventOf<T> => e.type === type)
      .map((event) => ({ seq: m.seq, subject: m.subject, event })),
  );

/**
 * Every acknowledged command's events are in the log exactly once, at the sequence it was answered with; a
 * command that was never answered (an outage) or refused is there at most once.
 */
export function expectEachAcknowledgedCommandOnce(log: LogEntry[], records: readonly CommandRecord[]): void {
  const byCommand = new Map<string, LogEntry[]>();
  for (const m of log) {
    const id = m.headers[Header.causationId];
    if (id) byCommand.set(id, [...(byCommand.get(id) ?? []), m]);
  }
  const problems: string[] = [];
  for (const r of records) {
    const stored = byCommand.get(r.commandId) ?? [];
    const acks = r.replies.flatMap((reply) => (reply.ok ? [reply.seq] : []));
    if (stored.length > 1)
      problems.push(
        `${r.name} ${r.commandId} stored ${stored.length} times (seqs ${stored.map((s) => s.seq).join(', ')})`,
      );
    if (acks.length > 0 && stored.length === 0)
      problems.push(`${r.name} ${r.commandId} was acknowledged (seq ${acks.join(', ')}) but is not in the log`);
    for (const seq of acks) {
      if (stored.length === 1 && stored[0]!.seq !== seq)
        problems.push(`${r.name} ${r.commandId} acknowledged at ${seq} but stored at ${stored[0]!.seq}`);
    }
  }
  expect(problems).toEqual([]);
}

/** Wait for the live read models to reach the end of the log, then replay the log into a fresh schema and compare them row for row. */
export async function expectReadModelsEqualCleanRebuild(options: {
  store: EventStore;
  pool: Pool;
  schema: string;
  logger: Logger;
}): Promise<void> {
  const last = await options.store.lastSeq();
  expect(await readCheckpoint(options.pool, options.schema)).toBe(last);
  const clean = `${options.schema}_clean`;
  await replayInto({ store: options.store, pool: options.pool, schema: clean, untilSeq: last, logger: options.logger });
  try {
    expect(await compareSchemas(options.pool, options.schema, clean)).toEqual([]);
  } finally {
    await options.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(clean)} CASCADE`);
  }
}

export type DueEmail = {
  messageId: string;
  kind: EmailKind;
  userId: string;
  lines?: string[];
};

/**
 * The emails the log makes due, worked out independently of the notifier: a link email for every link event that has
 * not expired, and for every run a digest to each registered user whose alerts the run crossed (the pure crossing rule
 * over the log's own alerts and runs), listing exactly those alerts.
 */
export function dueEmails(log: LogEntry[], now = new Date()): { due: DueEmail[]; triggers: Map<string, string[]> } {
  const due: DueEmail[] = [];
  const triggers = new Map<string, string[]>();
  const registeredAt = new Map<string, number>();
  const paused = new Set<string>();
  for (const { seq, event } of eventsOf(log, 'UserRegistered'))
    if (!registeredAt.has(event.data.userId)) registeredAt.set(event.data.userId, seq);
  for (const m of log) for (const e of m.events) if (e.type === 'AlertEmailsPaused') paused.add(e.data.userId);

  for (const m of log) {
    for (const e of m.events) {
      // The previous address is told of every change of address, whenever.
      if (e.type === 'EmailChanged') {
        const messageId = messageIdFor('email-changed', `${e.data.userId}.${m.seq}`, MAIL_DOMAIN);
        due.push({ kind: 'email-changed', userId: e.data.userId, messageId });
      }
      if (
        e.type !== 'RegistrationRequested' &&
        e.type !== 'VerificationReissued' &&
        e.type !== 'PasswordResetRequested' &&
        e.type !== 'EmailChangeRequested'
      )
        continue;
      if (Date.parse(e.data.expiresAt) <= now.getTime()) continue;
      const kind: EmailKind =
        e.type === 'PasswordResetRequested'
          ? 'password-reset'
          : e.type === 'EmailChangeRequested'
            ? 'email-change'
            : 'verification';
      due.push({
        kind,
        userId: e.data.userId,
        messageId: messageIdFor(kind, `${e.data.userId}.${e.data.tokenNonce}`, MAIL_DOMAIN),
      });
    }
  }

  const alerts = new Map<string, AlertRecord>();
  for (const { seq, event } of eventsOf(log, 'AlertSet'))
    alerts.set(event.data.alertId, { ...event.data, setSeq: seq, deletedSeq: null });
  for (const { seq, event } of eventsOf(log, 'AlertDeleted')) {
    const alert = alerts.get(event.data.alertId);
    if (alert && alert.deletedSeq === null) alert.deletedSeq = seq;
  }
  const runs: Run[] = [];
  for (const { seq, event } of eventsOf(log, 'RatesFetched')) {
    runs.push({ seq, rates: withProviderBase(event.data.base, event.data.rates) });
    const byUser = new Map<string, string[]>();
    for (const c of crossedAlerts(runs, [...alerts.values()])) {
      byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), `${c.base}/${c.quote} ${c.threshold} ${c.direction}`]);
      triggers.set(`${seq}.${c.userId}`, [...(triggers.get(`${seq}.${c.userId}`) ?? []), c.alertId]);
    }
    for (const [userId, lines] of byUser) {
      const registered = registeredAt.get(userId);
      if (registered === undefined || registered > seq || paused.has(userId)) continue;
      due.push({
        kind: 'alert-digest',
        userId,
        lines: lines.sort(),
        messageId: messageIdFor('alert-digest', `${seq}.${userId}`, MAIL_DOMAIN),
      });
    }
  }
  return { due, triggers };
}

/** The "pair threshold direction" lines a digest email lists. */
export const digestLines = (email: AcceptedEmail) =>
  [...email.text.matchAll(/^- ([A-Z]{3}\/[A-Z]{3}) crossed (\S+) going (up|down):/gm)]
    .map((m) => `${m[1]} ${m[2]} ${m[3]}`)
    .sort();

/**
 * Every due email arrived, none that was not due, each exactly once except those a test allows to be resent (a crash
 * between sending and recording): a resend carries the same Message-ID and content. The log records each EmailSent
 * once, records each run's triggers once per user, and exactly the alerts the crossing rule says.
 */
export function expectEveryDueEmailSentOnce(
  log: LogEntry[],
  accepted: readonly AcceptedEmail[],
  options: { mayBeResent?: ReadonlySet<string> } = {},
): { due: DueEmail[] } {
  const { due, triggers } = dueEmails(log);
  const received = new Map<string, AcceptedEmail[]>();
  for (const e of accepted) received.set(e.messageId, [...(received.get(e.messageId) ?? []), e]);
  const dueIds = new Set(due.map((d) => d.messageId));

  const missing = due.filter((d) => !received.has(d.messageId)).map((d) => `${d.kind} ${d.messageId}`);
  const unexpected = [...received.keys()].filter((id) => !dueIds.has(id));
  const twice = [...received]
    .filter(([id, copies]) => copies.length > 1 && !options.mayBeResent?.has(id))
    .map(([id, copies]) => `${id} ×${copies.length}`);
  expect({ missing, unexpected, twice }).toEqual({ missing: [], unexpected: [], twice: [] });
  for (const [, copies] of received) {
    for (const copy of copies.slice(1))
      expect({ to: copy.to, subject: copy.subject, text: copy.text }).toEqual({
        to: copies[0]!.to,
        subject: copies[0]!.subject,
        text: copies[0]!.text,
      });
  }
  for (const d of due) if (d.lines) expect(digestLines(received.get(d.messageId)![0]!), d.messageId).toEqual(d.lines);

  const sent = eventsOf(log, 'EmailSent');
  const sentCount = new Map<string, number>();
  for (const { event } of sent) sentCount.set(event.data.messageId, (sentCount.get(event.data.messageId) ?? 0) + 1);
  expect([...sentCount].filter(([id, n]) => n !== 1 || !dueIds.has(id))).toEqual([]);
  expect(due.filter((d) => !sentCount.has(d.messageId)).map((d) => d.messageId)).toEqual([]);

  const recorded = new Map<string, string[]>();
  const triggerMessages = new Map<string, number>();
  for (const m of log) {
    const t = m.events.filter((e): e is EventOf<'AlertTriggered'> => e.type === 'AlertTriggered');
    if (t.length === 0) continue;
    const key = `${t[0]!.data.runSeq}.${t[0]!.data.userId}`;
    triggerMessages.set(key, (triggerMessages.get(key) ?? 0) + 1);
    recorded.set(key, t.map((e) => e.data.alertId).sort());
  }
  expect([...triggerMessages].filter(([, n]) => n !== 1)).toEqual([]);
  const expected = new Map([...triggers].map(([k, ids]) => [k, [...ids].sort()]));
  expect(Object.fromEntries([...recorded].sort())).toEqual(Object.fromEntries([...expected].sort()));
  return { due };
}

/** Patterns of what must never be stored: a session JWT, an emailed link token. */
const SECRET_SHAPES: [string, RegExp][] = [
  ['a JWT', /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{20,}/],
  ['a link token', /u[0-9a-f]{32}\.[A-Za-z0-9_-]{43}/],
];

/** The whole log, headers and bodies, holds none of `secrets` and nothing shaped like a token. */
export function expectNoSecretsIn(text: string, secrets: Iterable<string>, where: string): void {
  const leaks: string[] = [];
  for (const secret of secrets) {
    if (secret.length < 6) continue;
    if (text.includes(secret)) leaks.push(`${where} holds a secret: ${secret.slice(0, 6)}…`);
    // A URL-encoded secret is the same secret.
    else if (text.includes(encodeURIComponent(secret)))
      leaks.push(`${where} holds a URL-encoded secret: ${secret.slice(0, 6)}…`);
  }
  for (const [name, shape] of SECRET_SHAPES) {
    const found = shape.exec(text);
    if (found) leaks.push(`${where} holds ${name}: ${found[0].slice(0, 12)}…`);
  }
  expect(leaks).toEqual([]);
}

export async function logText(store: EventStore): Promise<string> {
  return (await readLog(store)).map((m) => `${m.subject}\n${JSON.stringify(m.headers)}\n${m.body}`).join('\n');
}
