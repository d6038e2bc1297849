import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { event, subjects } from '../../events/index.ts';
import { commandClient, type SendCommand } from '../../platform/commandClient.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { linkSecret, linkToken } from '../../platform/tokens.ts';
import { meta, openTestWorld, type TestWorld } from '../../test/harness.ts';
import { startProjector } from '../projector/main.ts';
import { migrateSchema } from '../projector/projector.ts';
import { MAX_ALERTS_PER_USER } from './alert/alertDecider.ts';
import { FACTS_KEPT_MS } from './alert/alertPolicyFacts.ts';
import { serveCommands } from './commandServer.ts';
import { hashPassword } from './passwords.ts';
import { RESET_TTL_MS } from './user/userState.ts';
import { testUserId } from '../../test/personalKeys.ts';

let world: TestWorld;
let projector: { stop: () => Promise<void> };
let send: SendCommand;
const secret = linkSecret('a test secret that is long enough!!');
/** Every password the command service hashed, in order: a hash is what an attacker would make us pay for. */
const hashed: string[] = [];
let clockAhead = 0;

/** Append a log message and wait until the projector has it in the read models, where SetAlert reads its facts. */
async function projected(subject: string, events: Parameters<TestWorld['store']['append']>[1], msgId: string) {
  const { seq } = await world.store.append(subject, events, { expectedSeq: 0, msgId, meta: meta() });
  await waitForProjection(world.pool, world.schema, seq, 5_000);
}

beforeAll(async () => {
  world = await openTestWorld();
  await migrateSchema(world.pool, world.schema);
  projector = startProjector({ store: world.store, pool: world.pool, schema: world.schema, logger: world.logger });
  const countingHash = (password: string) => (hashed.push(password), hashPassword(password));
  const now = () => new Date(Date.now() + clockAhead);
  serveCommands(world.nc, {
    store: world.store,
    ns: world.ns,
    pool: world.pool,
    schema: world.schema,
    linkSecret: secret,
    personal: world.personal,
    now,
    hashPassword: countingHash,
    logger: world.logger,
  });
  send = commandClient(world.nc, world.ns);
  const rates = { EUR: '1', USD: '1.0825', JPY: '163.42' };
  await projected(
    subjects.rates(world.ns, 'frankfurter', '2026-11-02'),
    [
      event('RatesFetched', {
        provider: 'frankfurter',
        base: 'EUR',
        asOf: '2026-11-02',
        fetchedAt: '2026-11-02T16:05:00.000Z',
        rates,
      }),
    ],
    'run-1',
  );
});
afterAll(async () => {
  await projector?.stop();
  await world?.close();
});

describe('commands over NATS request/reply', () => {
  it('lets exactly one of ten racing registrations of one username win', async () => {
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        send('RequestRegistration', {
          username: 'Racer',
          email: `r${i}@example.com`,
          password: 'correct horse battery',
        }),
      ),
    );
    expect(replies.filter((r) => r.ok)).toHaveLength(1);
    expect(replies.filter((r) => !r.ok).map((r) => !r.ok && r.error)).toEqual(Array(9).fill('USERNAME_TAKEN'));
    const { history } = await world.store.load(subjects.user(world.ns, testUserId('racer')));
    expect(history.flatMap((h) => h.events.map((e) => e.type))).toEqual(['RegistrationRequested']);
  });

  it('runs register → verify → log in → log out, storing only hashes', async () => {
    expect(
      await send('RequestRegistration', {
        username: 'grace',
        email: 'grace@example.com',
        password: 'a long enough password',
      }),
    ).toMatchObject({ ok: true });
    const userId = testUserId('grace');
    const { history } = await world.store.load(subjects.user(world.ns, userId));
    const requested = history[0]!.events[0]!;
    if (requested.type !== 'RegistrationRequested') throw new Error('expected RegistrationRequested');
    expect(requested.data.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(history)).not.toContain('a long enough password');

    expect(await send('LogIn', { username: 'grace', password: 'a long enough password' })).toMatchObject({
      ok: false,
      error: 'INVALID_CREDENTIALS',
    });
    const token = linkToken(secret, 'verify', userId, requested.data.tokenNonce);
    expect(JSON.stringify(history)).not.toContain(token);
    expect(await send('VerifyRegistration', { token: token.slice(0, -2) + 'xx' })).toMatchObject({
      ok: false,
      error: 'TOKEN_INVALID',
    });
    expect(await send('VerifyRegistration', { token })).toMatchObject({ ok: true });
    expect(await send('VerifyRegistration', { token })).toMatchObject({ ok: false, error: 'TOKEN_USED' });
    expect(await send('LogIn', { username: 'grace', password: 'wrong password!' })).toMatchObject({
      ok: false,
      error: 'INVALID_CREDENTIALS',
    });
    const login = await send('LogIn', { username: 'GRACE', password: 'a long enough password' });
    expect(login).toMatchObject({ ok: true, result: { userId } });
    const sessionId = login.ok ? login.result.sessionId! : '';
    expect(await send('LogOut', { userId, sessionId })).toMatchObject({ ok: true });
  });

  it('stores a command sent twice (double-click) once', async () => {
    const payload = { userId: 'u1', alertId: 'dbl1', base: 'EUR', quote: 'USD', threshold: '1.1' };
    const [a, b] = await Promise.all([
      send('SetAlert', payload, { commandId: 'double-click-1' }),
      send('SetAlert', payload, { commandId: 'double-click-1' }),
    ]);
    expect(a.ok && b.ok && a.seq === b.seq).toBe(true);
    expect((await world.store.load(subjects.alert(world.ns, 'dbl1'))).history).toHaveLength(1);
  });

  it('answers bad requests with INVALID_COMMAND and writes nothing', async () => {
    const before = await world.store.lastSeq();
    expect(
      await send('SetAlert', { userId: 'u1', alertId: 'x1', base: 'EUR', quote: 'USD', threshold: '-1' }),
    ).toMatchObject({ ok: false, error: 'INVALID_COMMAND' });
    const raw = await world.nc.request(subjects.command(world.ns, 'SetAlert'), 'not json', { timeout: 2000 });
    expect(raw.json()).toMatchObject({ ok: false, error: 'INVALID_COMMAND' });
    expect(await world.store.lastSeq()).toBe(before);
  });

  it("refuses to delete another user's alert as if it did not exist", async () => {
    await send('SetAlert', { userId: 'owner', alertId: 'own1', base: 'EUR', quote: 'USD', threshold: '1.1' });
    expect(await send('DeleteAlert', { userId: 'intruder', alertId: 'own1' })).toMatchObject({
      ok: false,
      error: 'NOT_FOUND',
    });
    const deleted = await send('DeleteAlert', { userId: 'owner', alertId: 'own1' });
    expect(deleted).toMatchObject({ ok: true });
    // Deleting it again is done already: the same answer and the same position, nothing new in the log …
    expect(await send('DeleteAlert', { userId: 'owner', alertId: 'own1' })).toEqual(deleted);
    // … and to anyone else it stays absent.
    expect(await send('DeleteAlert', { userId: 'intruder', alertId: 'own1' })).toMatchObject({
      ok: false,
      error: 'NOT_FOUND',
    });
  });

  it('sets an alert only on currencies of the latest run and up to the cap, naming the fields, writing nothing else', async () => {
    const alert = { userId: 'capped', base: 'EUR', quote: 'USD', threshold: '1.1' };
    const before = await world.store.lastSeq();
    expect(await send('SetAlert', { ...alert, alertId: 'chf1', quote: 'CHF' })).toMatchObject({
      ok: false,
      error: 'UNKNOWN_CURRENCY',
      fields: ['quote'],
    });
    expect(await send('SetAlert', { ...alert, alertId: 'gbp1', base: 'GBP', quote: 'XYZ' })).toMatchObject({
      ok: false,
      error: 'UNKNOWN_CURRENCY',
      fields: ['base', 'quote'],
    });
    expect(await world.store.lastSeq()).toBe(before);

    for (let i = 1; i < MAX_ALERTS_PER_USER; i++)
      await world.store.append(
        subjects.alert(world.ns, `capped${i}`),
        [event('AlertSet', { ...alert, alertId: `capped${i}` })],
        { expectedSeq: 0, msgId: `capped${i}`, meta: meta() },
      );
    await projected(
      subjects.alert(world.ns, 'capped0'),
      [event('AlertSet', { ...alert, alertId: 'capped0' })],
      'capped0',
    );
    // Written past this service, as another instance would: seen once what it read of the user is FACTS_KEPT_MS old.
    clockAhead += FACTS_KEPT_MS;
    // Sent together, so one query may answer both: each user is decided on their own count.
    const [capped, roomy] = await Promise.all([
      send('SetAlert', { ...alert, alertId: 'one-too-many' }),
      send('SetAlert', { ...alert, userId: 'roomy', alertId: 'roomy1' }),
    ]);
    expect(capped).toMatchObject({ ok: false, error: 'TOO_MANY_ALERTS' });
    expect(roomy).toMatchObject({ ok: true });
    expect((await world.store.load(subjects.alert(world.ns, 'one-too-many'))).lastSeq).toBe(0);
    // A deleted alert makes room for one more.
    const deleted = await send('DeleteAlert', { userId: 'capped', alertId: 'capped0' });
    expect(deleted).toMatchObject({ ok: true });
    await waitForProjection(world.pool, world.schema, deleted.ok ? deleted.seq : 0, 5_000);
    expect(await send('SetAlert', { ...alert, alertId: 'room-again' })).toMatchObject({ ok: true });
    // The one it just set is counted at once, whether or not the projector has it yet.
    expect(await send('SetAlert', { ...alert, alertId: 'over-again' })).toMatchObject({
      ok: false,
      error: 'TOO_MANY_ALERTS',
    });
  });

  it('checks a reset link before hashing the new password: a forged, expired or used link costs no hash', async () => {
    expect(
      await send('RequestRegistration', {
        username: 'resetter',
        email: 'resetter@example.com',
        password: 'a long enough password',
      }),
    ).toMatchObject({ ok: true });
    const userId = testUserId('resetter');
    const nonceOf = async (type: string) => {
      const { history } = await world.store.load(subjects.user(world.ns, userId));
      const found = history
        .flatMap((h) => h.events)
        .filter((e) => e.type === type)
        .at(-1) as { data: { tokenNonce: string } };
      return found.data.tokenNonce;
    };
    expect(
      await send('VerifyRegistration', {
        token: linkToken(secret, 'verify', userId, await nonceOf('RegistrationRequested')),
      }),
    ).toMatchObject({ ok: true });
    expect(await send('RequestPasswordReset', { userId })).toMatchObject({ ok: true });
    const token = linkToken(secret, 'reset', userId, await nonceOf('PasswordResetRequested'));
    const reset = (link: string, password: string) => send('ResetPassword', { token: link, password });

    hashed.length = 0;
    expect(
      await reset(linkToken(secret, 'reset', userId, 'a nonce that was never issued'), 'forged link password'),
    ).toMatchObject({ ok: false, error: 'TOKEN_INVALID' });
    expect(
      await reset(
        linkToken(secret, 'verify', userId, await nonceOf('PasswordResetRequested')),
        'wrong purpose password',
      ),
    ).toMatchObject({ ok: false, error: 'TOKEN_INVALID' });
    expect(
      await reset(linkToken(secret, 'reset', testUserId('nobody-at-all'), 'n'.repeat(22)), 'no such user password'),
    ).toMatchObject({ ok: false, error: 'TOKEN_INVALID' });
    clockAhead += RESET_TTL_MS + 1_000;
    expect(await reset(token, 'too late password')).toMatchObject({ ok: false, error: 'TOKEN_EXPIRED' });
    clockAhead -= RESET_TTL_MS + 1_000;
    expect(hashed).toEqual([]);

    expect(await reset(token, 'the new password')).toMatchObject({ ok: true });
    expect(hashed).toEqual(['the new password']);
    expect(await reset(token, 'used link password')).toMatchObject({ ok: false, error: 'TOKEN_USED' });
    expect(hashed).toEqual(['the new password']);
  });
});
