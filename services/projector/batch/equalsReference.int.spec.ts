import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeEvents,
  event,
  eventTypes,
  type AlertRuleFields,
  type DomainEvent,
  type EventOf,
  type EventType,
} from '../../../events/index.ts';
import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { inTransaction, tablesIn, type Pool } from '../../../platform/postgres.ts';
import { openTestWorld, type TestWorld } from '../../../test/harness.ts';
import { parkStatement, statementsFor, type Statement } from '../reference/eventStatements.ts';
import { applyBatch, migrateSchema, readCheckpoint } from '../projector.ts';
import { compareSchemas } from '../rebuild.ts';
import { setStatements } from './setStatements.ts';
import { parkedRow, readStoredMessage, type StoredMessage } from '../storedMessage.ts';
import { tableChanges } from './tableChanges.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

const hash = 'ab'.repeat(32);
const nonce = 'n'.repeat(22);
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const userIds = [
  'u0000000000000000000000000000000a',
  'u0000000000000000000000000000000b',
  'u0000000000000000000000000000000c',
];
// The first two are one session: Postgres reads a uuid whatever the case of its digits.
const sessionIds = [
  '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11',
  '6F1C1F0E-8D7A-4A43-9A52-1B2F0F6F3E11',
  '00000000-0000-4000-8000-000000000002',
  '00000000-0000-4000-8000-000000000003',
];

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function seeded(seed: number) {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** What one event of the tangled log is drawn from: a few shared ids, its sequence, and the log's own dice. */
type Draws = {
  seq: number;
  userId: string;
  username: string;
  sessionId: string;
  alertId: string;
  runSeq: number;
  pick: <T>(items: readonly T[]) => T;
  time: (seq: number, minutes?: number) => string;
};

/** The rules an alert of the tangled log is set or edited to: one of every shape the log may hold. */
const tangledRules = (seq: number): AlertRuleFields[] => [
  { threshold: `1.${seq}` },
  { kind: 'threshold', threshold: `1.${seq}`, direction: 'down', repeat: 'once', expires: '2026-12-31' },
  { kind: 'change', percent: `0.${seq}`, runs: 1 + (seq % 30), direction: 'up', repeat: 'every' },
];

/** How the tangled log makes each event type: keyed by type, so a new event type does not compile until this test covers it. */
const tangledEvents: { [T in EventType]: (d: Draws) => EventOf<T> } = {
  RegistrationRequested: ({ userId, username, seq, time }) =>
    event('RegistrationRequested', {
      userId,
      username,
      email: `${seq}@example.com`,
      // Sealed registrations carry the address's lookup hash; those of older logs do not.
      ...(seq % 3 === 0 ? {} : { emailLookup: createHash('sha256').update(`${seq}`).digest('base64url') }),
      passwordHash: argon,
      tokenNonce: nonce,
      tokenHash: hash,
      expiresAt: time(seq, 60),
    }),
  VerificationReissued: ({ userId, seq, time }) =>
    event('VerificationReissued', { userId, tokenNonce: nonce, tokenHash: hash, expiresAt: time(seq, 90) }),
  UserRegistered: ({ userId, username, seq }) =>
    event('UserRegistered', { userId, username, email: `${seq}@example.com` }),
  RegistrationExpired: ({ userId, username }) => event('RegistrationExpired', { userId, username }),
  UserLoggedIn: ({ userId, sessionId, seq, time }) =>
    event('UserLoggedIn', { userId, sessionId, expiresAt: time(seq, 600) }),
  UserLoggedOut: ({ userId, sessionId }) => event('UserLoggedOut', { userId, sessionId }),
  PasswordChanged: ({ userId, pick }) =>
    event('PasswordChanged', {
      userId,
      passwordHash: argon,
      endedSessionIds: [pick(sessionIds), pick(sessionIds)],
      // A reset (none kept) or a change on the account page: the activity line differs.
      ...(pick([true, false]) ? { keptSessionId: pick(sessionIds) } : {}),
    }),
  SessionsEnded: ({ userId, sessionId, pick }) =>
    event('SessionsEnded', { userId, sessionIds: [pick(sessionIds), pick(sessionIds)], keptSessionId: sessionId }),
  PasswordResetRequested: ({ userId, seq, time }) =>
    event('PasswordResetRequested', { userId, tokenNonce: nonce, tokenHash: hash, expiresAt: time(seq, 30) }),
  EmailChangeRequested: ({ userId, seq, time }) =>
    event('EmailChangeRequested', {
      userId,
      email: `new${seq}@example.com`,
      emailLookup: createHash('sha256').update(`new${seq}`).digest('base64url'),
      tokenNonce: nonce,
      tokenHash: hash,
      expiresAt: time(seq, 120),
    }),
  // Of any user, one with no row yet among them: that update finds nothing, in the batch as one at a time.
  EmailChanged: ({ userId, seq, pick }) =>
    event('EmailChanged', {
      userId,
      email: pick([`changed${seq}@example.com`, `${seq}@example.com`]),
      emailLookup: createHash('sha256').update(`changed${seq}`).digest('base64url'),
      previousEmail: `${seq - 1}@example.com`,
    }),
  AlertEmailsPaused: ({ userId }) => event('AlertEmailsPaused', { userId }),
  AlertEmailsResumed: ({ userId }) => event('AlertEmailsResumed', { userId }),
  // Before kinds (a threshold alone), a threshold with every field, a change alert.
  AlertSet: ({ alertId, userId, seq, pick }) =>
    event('AlertSet', { alertId, userId, base: 'EUR', quote: 'USD', ...pick(tangledRules(seq)) }),
  AlertEdited: ({ alertId, userId, seq, pick }) =>
    event('AlertEdited', { alertId, userId, ...pick(tangledRules(seq)) }),
  AlertPaused: ({ alertId, userId }) => event('AlertPaused', { alertId, userId }),
  AlertResumed: ({ alertId, userId }) => event('AlertResumed', { alertId, userId }),
  AlertRearmed: ({ alertId, userId }) => event('AlertRearmed', { alertId, userId }),
  AlertDeleted: ({ alertId, userId }) => event('AlertDeleted', { alertId, userId }),
  RatesFetched: ({ seq, pick, time }) =>
    event('RatesFetched', {
      provider: 'frankfurter',
      base: 'EUR',
      asOf: pick(['2026-11-01', '2026-11-02']),
      fetchedAt: time(seq),
      rates: { USD: `1.${seq}`, JPY: '163.4' },
    }),
  AlertTriggered: ({ alertId, userId, runSeq, seq }) =>
    event('AlertTriggered', {
      alertId,
      userId,
      runSeq,
      base: 'EUR',
      quote: 'USD',
      threshold: '1.1',
      previousRatio: `1.0${seq}`,
      currentRatio: '1.2',
      direction: 'up',
    }),
  EmailClaimed: ({ userId, runSeq, seq, time }) =>
    event('EmailClaimed', {
      userId,
      kind: 'alert-digest',
      reference: `${runSeq}`,
      claimedBy: 'n1',
      until: time(seq, 2),
    }),
  EmailDeferred: ({ userId, runSeq, seq, time, pick }) =>
    event('EmailDeferred', {
      userId,
      kind: pick(['alert-digest', 'password-reset'] as const),
      reference: `${runSeq}`,
      attempt: 1 + (seq % 3),
      ...(seq % 2 === 0 ? { code: 451 } : {}),
      detail: seq % 2 === 0 ? 'SMTP 451 4.7.1' : 'timeout (ETIMEDOUT)',
      retryAt: time(seq, 1),
      firstAttemptAt: time(seq),
    }),
  // Refusals for good of the account's address, of another (a new address not yet confirmed), and a bound reached:
  // only the first pauses, and only while the address is the account's.
  EmailUndeliverable: ({ userId, runSeq, seq, time, pick }) =>
    event('EmailUndeliverable', {
      userId,
      kind: pick(['alert-digest', 'verification', 'email-change', 'account-erased'] as const),
      reference: `${runSeq}`,
      attempt: 1,
      permanent: pick([true, true, false]),
      code: 550,
      detail: 'SMTP 550 5.1.1',
      email: pick([`${seq}@example.com`, `changed${seq}@example.com`]),
      firstAttemptAt: time(seq),
    }),
  // One user of the three is erased, over and over (and registers anew): the other two keep rows for the rest to fold into.
  AccountErased: ({ pick }) =>
    event('AccountErased', { userId: userIds[2]!, by: pick(['owner', 'operator'] as const) }),
  // References are free text: what the array encoding must quote and escape. An erasure's confirmation leaves no row.
  EmailSent: ({ userId, runSeq, seq, pick }) =>
    event('EmailSent', {
      userId,
      kind: pick(['alert-digest', 'alert-digest', 'verification', 'account-erased'] as const),
      messageId: `<m${runSeq}@x>`,
      reference: pick([`${runSeq}.${seq}`, 'say "hi"', 'back\\slash', '{a,b}', 'NULL', ' ']),
    }),
  // A few channels, shared by the users: an event of one on another's channel changes it as the log says.
  ChannelAdded: ({ userId, seq, pick }) =>
    event('ChannelAdded', {
      channelId: pick(['c1', 'c2']),
      userId,
      url: `sealed:v1:1:url${seq}`,
      format: pick(['json', 'slack', 'discord'] as const),
      secret: `sealed:v1:1:secret${seq}`,
    }),
  ChannelTestRequested: ({ userId, seq, pick }) =>
    event('ChannelTestRequested', { channelId: pick(['c1', 'c2']), userId, testId: `t${seq}` }),
  ChannelPaused: ({ userId, pick }) =>
    event('ChannelPaused', { channelId: pick(['c1', 'c2']), userId, reason: pick(['owner', 'failing'] as const) }),
  ChannelResumed: ({ userId, pick }) => event('ChannelResumed', { channelId: pick(['c1', 'c2']), userId }),
  ChannelDeleted: ({ userId, pick }) => event('ChannelDeleted', { channelId: pick(['c1', 'c2']), userId }),
  WebhookClaimed: ({ userId, runSeq, seq, time, pick }) =>
    event('WebhookClaimed', {
      channelId: pick(['c1', 'c2']),
      userId,
      reference: `${runSeq}`,
      claimedBy: 'n1',
      until: time(seq, 2),
    }),
  WebhookAttempted: ({ userId, runSeq, seq, time, pick }) =>
    event('WebhookAttempted', {
      channelId: pick(['c1', 'c2']),
      userId,
      reference: pick([`${runSeq}`, `t${seq}`]),
      webhookId: `msg_${runSeq}`,
      attempt: 1 + (seq % 3),
      outcome: pick(['delivered', 'retry', 'rejected', 'expired'] as const),
      ...(pick([true, false]) ? { status: pick([200, 429, 503]) } : {}),
      detail: pick(['HTTP 503', 'timed out', 'say "hi"']),
      ...(pick([true, false]) ? { retryAt: time(seq, 5) } : {}),
      firstAttemptAt: time(seq, -5),
    }),
};

/**
 * A log that keeps touching the same few users, sessions, alerts, runs and emails, in every order the
 * commands allow and some they don't (a logout before its login, a repeated id): what folding must get right.
 */
function tangledLog(length: number, seed: number): StoredMessage[] {
  const random = seeded(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const time = (seq: number, minutes = 0) =>
    new Date(Date.UTC(2026, 10, 2) + seq * 1_000 + minutes * 60_000).toISOString();
  const makers = Object.values(tangledEvents) as ((d: Draws) => DomainEvent)[];
  const eventAt = (seq: number): DomainEvent => {
    const userId = pick(userIds);
    const username = `user-${userId.at(-1)}${random() < 0.1 ? '-renamed' : ''}`; // a re-registration may name itself anew
    const sessionId = pick(sessionIds);
    const alertId = pick(['a1', 'a2', 'A2', 'a3']);
    const runSeq = pick([1, 2]);
    return pick(makers)({ seq, userId, username, sessionId, alertId, runSeq, pick, time });
  };
  return Array.from({ length: length }, (_, i): StoredMessage => {
    const seq = i + 1;
    const raw: RawMessage = {
      seq,
      subject: `s.${seq}`,
      headers: { h: `${seq}` },
      body: new TextEncoder().encode(`{"seq":${seq}}`),
      pending: 0,
    };
    if (random() < 0.03) return { raw, unreadable: `unreadable ${seq}` };
    const events = Array.from({ length: random() < 0.2 ? 2 : 1 }, () => eventAt(seq));
    return { raw, events, occurredAt: time(seq) };
  });
}

/** A pool whose clients note the text of every statement they send. */
function recording(pool: Pool, texts: string[]): Pool {
  return {
    connect: async () => {
      const client = await pool.connect();
      return new Proxy(client, {
        get: (target, key) => {
          if (key === 'query')
            return (text: string, values?: unknown[]) => (texts.push(text), target.query(text, values));
          const value = Reflect.get(target, key) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  } as unknown as Pool;
}

async function freshSchema(name: string): Promise<string> {
  const schema = `${world.schema}_${name}`;
  await migrateSchema(world.pool, schema);
  return schema;
}

async function runAll(statements: readonly Statement[]): Promise<void> {
  await inTransaction(world.pool, async (client) => {
    for (const s of statements) await client.query(s.text, s.values);
  });
}

/** The reference: every event's own statements, one message per transaction. */
async function oneAtATime(messages: readonly StoredMessage[], name: string): Promise<string> {
  const schema = await freshSchema(name);
  const t = tablesIn(schema);
  for (const m of messages) {
    if (m.unreadable !== undefined) await runAll([parkStatement(parkedRow(m.raw, m.unreadable), t)]);
    else
      await runAll(
        m.events.flatMap((e, position) => statementsFor(e, { seq: m.raw.seq, position, occurredAt: m.occurredAt }, t)),
      );
  }
  return schema;
}

async function setBased(messages: readonly StoredMessage[], batchSize: number, name: string): Promise<string> {
  const schema = await freshSchema(name);
  for (let i = 0; i < messages.length; i += batchSize)
    await runAll(setStatements(tableChanges(messages.slice(i, i + batchSize)), tablesIn(schema)));
  return schema;
}

describe('set-based batches', () => {
  const seeds = [1, 2, 3];
  const logs = seeds.map((seed) => tangledLog(300, seed));
  const references: string[] = [];
  beforeAll(async () => {
    for (const [i, messages] of logs.entries()) references.push(await oneAtATime(messages, `ref${seeds[i]}`));
  }, 60_000);

  it('are checked against a log that really folds: every event type, rows created, changed, closed and parked', async () => {
    const seen = new Set(logs.flat().flatMap((m) => (m.unreadable === undefined ? m.events.map((e) => e.type) : [])));
    expect([...seen].sort()).toEqual([...eventTypes].sort());
    for (const reference of references) {
      const t = tablesIn(reference);
      const { rows } = await world.pool.query(`SELECT
          (SELECT count(*) FROM ${t('users')})::int AS users,
          (SELECT count(*) FROM ${t('sessions')} WHERE closed_at IS NOT NULL)::int AS closed,
          (SELECT count(*) FROM ${t('alerts')} WHERE deleted_seq IS NOT NULL)::int AS deleted,
          (SELECT count(*) FROM ${t('rate_runs')})::int AS runs,
          (SELECT count(*) FROM ${t('parked_events')})::int AS parked`);
      expect(
        Object.values(rows[0]).every((n) => (n as number) > 0),
        JSON.stringify(rows[0]),
      ).toBe(true);
    }
  });

  it.each([1, 2, 3, 7, 40, 1_000])(
    'leave the read models exactly as one event at a time does (batches of %i)',
    async (batchSize) => {
      for (const [i, messages] of logs.entries()) {
        const candidate = await setBased(messages, batchSize, `set${seeds[i]}_${batchSize}`);
        expect(await compareSchemas(world.pool, references[i]!, candidate)).toEqual([]);
      }
    },
    60_000,
  );
});

describe('a batch Postgres refuses on its data', () => {
  const meta = (occurredAt: string) => ({ occurredAt, correlationId: 'c', causationId: 'c' });
  const raw = (
    seq: number,
    events: DomainEvent[],
    occurredAt = `2026-11-02T10:00:${String(seq).padStart(2, '0')}.000Z`,
  ): RawMessage => ({
    seq,
    subject: `s.${seq}`,
    ...encodeEvents(events, meta(occurredAt)),
    pending: 0,
  });
  const requested = (userId: string, username: string, expiresAt: string) =>
    event('RegistrationRequested', {
      userId,
      username,
      email: `${username}@example.com`,
      passwordHash: argon,
      tokenNonce: nonce,
      tokenHash: hash,
      expiresAt,
    });
  const [ada, bob, cy] = userIds as [string, string, string];

  it('parks exactly the messages one at a time would park, even where a later event overwrote the bad value', async () => {
    const batch = [
      raw(1, [requested(ada, 'ada', '2026-11-03T00:00:00.000Z')]),
      raw(2, [requested(bob, 'bob', '0000-01-01T00:00:00Z')]), // a valid ISO time Postgres cannot hold…
      raw(3, [event('UserRegistered', { userId: bob, username: 'bob', email: 'bob@example.com' })]), // …overwritten here
      raw(4, [requested(cy, 'ada', '2026-11-03T00:00:00.000Z')]), // a username already taken
      raw(
        5,
        [event('UserLoggedIn', { userId: ada, sessionId: sessionIds[0]!, expiresAt: '2026-11-09T00:00:00.000Z' })],
        'not a time',
      ),
      raw(6, [event('AlertSet', { alertId: 'a1', userId: ada, base: 'EUR', quote: 'USD', threshold: '1.08' })]),
    ];
    const batched = await freshSchema('refused_batch');
    await applyBatch(world.pool, batched, batch, {}, world.logger);
    const alone = await freshSchema('refused_alone');
    for (const m of batch) await applyBatch(world.pool, alone, [m], {}, world.logger);

    expect(await compareSchemas(world.pool, batched, alone)).toEqual([]);
    const parked = await world.pool.query(`SELECT seq FROM ${tablesIn(batched)('parked_events')} ORDER BY seq`);
    expect(parked.rows.map((r) => r.seq)).toEqual([2, 4, 5]);
    expect(await readCheckpoint(world.pool, batched)).toBe(6);
    const users = await world.pool.query(`SELECT user_id, status FROM ${tablesIn(batched)('users')} ORDER BY user_id`);
    expect(users.rows).toEqual([{ user_id: ada, status: 'pending' }]);
  });

  it('is not what happens to a clean batch: that is one round trip for its changes, whatever its size and runs', async () => {
    const logged = tangledLog(400, 9)
      .flatMap((m) => (m.unreadable === undefined ? [{ events: m.events, occurredAt: m.occurredAt }] : []))
      // An erasure is a round trip of its own and splits the changes (the next test).
      .filter((m) => m.events.every((e) => e.type !== 'AccountErased'));
    // Runs of two more dates among them, whatever the random log drew: several runs, still one round trip.
    const run = (asOf: string, usd: string) =>
      event('RatesFetched', {
        provider: 'frankfurter',
        base: 'EUR',
        asOf,
        fetchedAt: `${asOf}T16:05:00.000Z`,
        rates: { USD: usd, JPY: '163.4' },
      });
    logged.splice(100, 0, { events: [run('2026-10-30', '1.07')], occurredAt: '2026-11-02T00:01:40.000Z' });
    logged.splice(200, 0, { events: [run('2026-10-31', '1.09')], occurredAt: '2026-11-02T00:03:20.000Z' });
    const batch = logged.map((m, i) => raw(i + 1, m.events, m.occurredAt));
    const batched = await freshSchema('clean_batch');
    const statements: string[] = [];
    await applyBatch(recording(world.pool, statements), batched, batch, {}, world.logger);
    const alone = await freshSchema('clean_alone');
    for (const m of batch) await applyBatch(world.pool, alone, [m], {}, world.logger, true);
    expect(await compareSchemas(world.pool, batched, alone)).toEqual([]);
    const runs = batch
      .map(readStoredMessage)
      .flatMap((m) => (m.unreadable === undefined ? m.events : []))
      .filter((e) => e.type === 'RatesFetched').length;
    expect(runs).toBeGreaterThan(1);
    // BEGIN with its settings and the checkpoint's lock; the changes (the rate runs among them); the checkpoint and COMMIT.
    expect(statements).toHaveLength(3);
    expect(statements.filter((s) => s.includes('rate_runs'))).toHaveLength(1);
    expect(statements.some((s) => s.includes('SAVEPOINT'))).toBe(false);
  });
});

describe('an erasure in a batch', () => {
  const at = (seq: number) => new Date(Date.UTC(2026, 10, 2) + seq * 1_000).toISOString();
  const [ada, bob] = userIds as [string, string];
  const requested = (userId: string, email: string) =>
    event('RegistrationRequested', {
      userId,
      username: `user-${userId.at(-1)}`,
      email,
      passwordHash: argon,
      tokenNonce: nonce,
      tokenHash: hash,
      expiresAt: at(3_600),
    });
  const history: DomainEvent[][] = [
    [requested(ada, 'ada@example.com'), requested(bob, 'bob@example.com')],
    [event('UserRegistered', { userId: ada, username: 'user-a', email: 'ada@example.com' })],
    [event('UserLoggedIn', { userId: ada, sessionId: sessionIds[0]!, expiresAt: at(9_000) })],
    [event('AlertSet', { alertId: 'a1', userId: ada, base: 'EUR', quote: 'USD', threshold: '1.1' })],
    [event('AlertSet', { alertId: 'b1', userId: bob, base: 'EUR', quote: 'USD', threshold: '1.2' })],
    [
      event('AlertTriggered', {
        alertId: 'a1',
        userId: ada,
        runSeq: 1,
        base: 'EUR',
        quote: 'USD',
        threshold: '1.1',
        previousRatio: '1.0',
        currentRatio: '1.2',
        direction: 'up',
      }),
    ],
    [event('EmailSent', { userId: ada, kind: 'alert-digest', messageId: '<d1@x>', reference: '1.a' })],
    [event('AccountErased', { userId: ada, by: 'owner' })],
    [event('EmailSent', { userId: ada, kind: 'account-erased', messageId: '<e1@x>', reference: 'erased' })],
    // Someone else registers the freed username: an account of its own, nothing of the old one.
    [requested(ada, 'someone.else@example.com')],
  ];
  const messages = history.map((events, i): StoredMessage => {
    const raw: RawMessage = { seq: i + 1, subject: `s.${i + 1}`, headers: {}, body: new Uint8Array(), pending: 0 };
    return { raw, events, occurredAt: at(i + 1) };
  });

  it.each([1, 3, 8, history.length])(
    'leaves no row of the erased account in any table, and the new account alone (batches of %i)',
    async (batchSize) => {
      const reference = await oneAtATime(messages, `erase_ref_${batchSize}`);
      const batched = await setBased(messages, batchSize, `erase_set_${batchSize}`);
      expect(await compareSchemas(world.pool, reference, batched)).toEqual([]);
      const t = tablesIn(batched);
      const tables = ['users', 'sessions', 'alerts', 'alert_triggers', 'emails_sent', 'activity'];
      const { rows } = await world.pool.query<Record<string, number>>(
        `SELECT ${tables.map((table) => `(SELECT count(*) FROM ${t(table)} WHERE user_id = $1)::int AS ${table}`).join(', ')}`,
        [ada],
      );
      // The one row of that id is the new account, pending, with its own address.
      expect(rows[0]).toEqual({ users: 1, sessions: 0, alerts: 0, alert_triggers: 0, emails_sent: 0, activity: 0 });
      const user = await world.pool.query(`SELECT email, status FROM ${t('users')} WHERE user_id = $1`, [ada]);
      expect(user.rows).toEqual([{ email: 'someone.else@example.com', status: 'pending' }]);
      const others = await world.pool.query(`SELECT alert_id FROM ${t('alerts')}`);
      expect(others.rows).toEqual([{ alert_id: 'b1' }]);
    },
  );

  it('is one more round trip: the changes before it, the deletion, the changes after it', () => {
    const statements = setStatements(tableChanges(messages), tablesIn('s'));
    expect(statements.map((s) => (s.text.includes('DELETE FROM') ? 'erase' : 'changes'))).toEqual([
      'changes',
      'erase',
      'changes',
    ]);
  });
});
