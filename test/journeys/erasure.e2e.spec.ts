import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { runCra } from '../faults/support/services.ts';
import { noRows, rowsOfUser } from '../readModelRows.ts';
import { projectedRun } from '../runs.ts';
import type { ReceivedEmail } from '../smtpSink.ts';
import { startTestSystem, type TestSystem } from '../system.ts';
import { registeredUser } from '../testUsers.ts';
import { webClient } from '../webClient.ts';
import { TEST_MASTER_KEY, testUserId } from '../personalKeys.ts';

// Erasure of a person, end to end on the real services and a real SMTP sink: deleting one's own account through the web,
// and `cra erase` as an operator runs it, in processes of its own.
let system: TestSystem;
let dataDir: string;
beforeAll(async () => {
  system = await startTestSystem();
  dataDir = mkdtempSync(join(tmpdir(), 'cra-erasure-'));
  await projectedRun(system.world, '2026-11-02', { USD: '1.08', GBP: '0.86' });
}, 30_000);
afterAll(async () => {
  await system?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** `cra …` in a process of its own, on this file's servers, namespace and schema. */
const cra = (...args: string[]) =>
  runCra(args, {
    NATS_URL: system.world.natsUrl,
    DATABASE_URL: system.world.databaseUrl,
    CRA_NAMESPACE: system.world.tag,
    CRA_SCHEMA: system.world.schema,
    CRA_DATA_DIR: dataDir,
    CRA_MASTER_KEY: TEST_MASTER_KEY,
    LOG_LEVEL: 'warn',
  });

const PASSWORD = 'ada has a long password';
const erasedSubject = 'Your Currency Ratio Alerter account was deleted';
const to = (address: string) => (m: ReceivedEmail) => m.to === address;
const sentTo = (address: string) => system.smtp.received.filter(to(address));
const settle = () => new Promise((r) => setTimeout(r, 1_500));

/** Register through the web with this address, follow the emailed link, log in. */
async function signUp(username: string, email: string) {
  const browser = webClient(system.app);
  await browser.get('/register');
  expect((await browser.post('/register', { username, email, password: PASSWORD })).status).toBe(200);
  const mail = (await system.smtp.waitFor((m) => m.some(to(email)))).find(to(email))!;
  const link = /http:\/\/localhost:7007(\/verify\?token=[^\s"<>]+)/.exec(mail.text)![1]!;
  expect((await browser.get(link)).status).toBe(200);
  await browser.get('/login');
  expect((await browser.post('/login', { username, password: PASSWORD })).status).toBe(303);
  return browser;
}

async function alertCrossingAt(userId: string, alertId: string, threshold: string) {
  const set = await system.send('SetAlert', { userId, alertId, base: 'EUR', quote: 'USD', threshold });
  expect(set.ok).toBe(true);
  if (set.ok) await waitForProjection(system.world.pool, system.world.schema, set.seq, 5_000);
}

describe('deleting my account', () => {
  it('erases everything of it; the username registers anew for someone else, who gets nothing of it', async () => {
    const ada = await signUp('ada', 'ada.old@example.com');
    const adaId = testUserId('ada');
    const bobId = await registeredUser(system, 'bob', 'bob has a long password');
    await alertCrossingAt(adaId, 'ada-eurusd', '1.1');
    await alertCrossingAt(adaId, 'ada-eurusd-2', '1.09');
    await alertCrossingAt(bobId, 'bob-eurusd', '1.1');
    expect((await rowsOfUser(system.world.pool, system.world.schema, adaId)).alerts).toBe(2);

    // The confirmation step, a wrong password beside the field, then the right one.
    const confirm = await ada.get('/account/delete');
    expect(confirm.body).toContain('This cannot be undone.');
    const wrong = await ada.post('/account/delete', { password: 'not what ada typed' });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatch(/id="f-password-error">That is not your password</);
    const deleted = await ada.post('/account/delete', { password: PASSWORD });
    expect(deleted.location).toBe('/account/deleted');
    expect((await ada.get('/account/deleted')).body).toContain('Your account was deleted');
    expect((await ada.get('/alerts')).location).toBe('/login?next=%2Falerts');

    // Nobody logs in as it, and no row of it is left in any read model.
    const someone = webClient(system.app);
    await someone.get('/login');
    expect((await someone.post('/login', { username: 'ada', password: PASSWORD })).status).toBe(401);
    const counts = await rowsOfUser(system.world.pool, system.world.schema, adaId);
    expect(counts).toEqual(noRows(counts));

    // One confirmation, to the address the account had, and never a second one.
    await system.smtp.waitFor((m) => m.some((e) => e.to === 'ada.old@example.com' && e.subject === erasedSubject));
    const confirmation = sentTo('ada.old@example.com').find((e) => e.subject === erasedSubject)!;
    expect(confirmation.text).toContain('Hello ada,');
    expect(confirmation.text).not.toMatch(/https?:\/\//);

    // A run crossing the old alerts: Bob gets his digest, the old address nothing.
    const before = sentTo('ada.old@example.com').length;
    const crossing = await projectedRun(system.world, '2026-11-03', { USD: '1.12', GBP: '0.86' });
    await system.smtp.waitFor((m) => m.some((e) => e.to === 'bob@example.test' && /crossed/.test(e.subject)));
    await settle();
    expect(sentTo('ada.old@example.com')).toHaveLength(before);
    expect(sentTo('ada.old@example.com').filter((e) => e.subject === erasedSubject)).toHaveLength(1);
    // Not even triggers are recorded for the erased account: its alerts left the read models with it.
    expect((await system.world.store.load(subjects.digest(system.world.ns, crossing, adaId))).history).toEqual([]);
    expect((await system.world.store.load(subjects.digest(system.world.ns, crossing, bobId))).history).not.toEqual([]);

    // Someone else registers the freed username, with an address of their own: a new account from nothing.
    const newcomer = await signUp('ada', 'someone.else@example.com');
    const alerts = await newcomer.get('/alerts');
    expect(alerts.status).toBe(200);
    expect(alerts.body).not.toContain('1.09');
    const activity = await newcomer.get('/activity');
    expect(activity.body).toContain('Registered your account');
    expect(activity.body).not.toMatch(/Set an alert|triggered|Email sent: alert digest/);
    const rows = await rowsOfUser(system.world.pool, system.world.schema, adaId);
    expect({ users: rows.users, alerts: rows.alerts, alert_triggers: rows.alert_triggers }).toEqual({
      users: 1,
      alerts: 0,
      alert_triggers: 0,
    });
    // A run that would have crossed the old alerts again sends the newcomer nothing: those alerts were never theirs.
    await projectedRun(system.world, '2026-11-04', { USD: '1.07', GBP: '0.86' });
    await system.smtp.waitFor(
      (m) => m.filter((e) => e.to === 'bob@example.test' && /crossed/.test(e.subject)).length === 2,
    );
    await settle();
    expect(sentTo('someone.else@example.com').map((e) => e.subject)).toEqual([
      'Confirm your Currency Ratio Alerter registration',
    ]);
    expect(sentTo('ada.old@example.com')).toHaveLength(before);

    const verify = await cra('replay', '--verify');
    expect(verify.output.join('\n')).toMatch(/read models match a replay of the log up to sequence \d+/);
    expect(verify.code).toBe(0);
  }, 90_000);
});

describe('cra erase --user NAME', () => {
  it("erases a registered account and a pending one, with the operator's confirmation, and refuses an unknown user", async () => {
    const carolId = await registeredUser(system, 'carol', 'carol has a long password');
    await alertCrossingAt(carolId, 'carol-eurusd', '1.2');
    const pending = await system.send('RequestRegistration', {
      username: 'dave',
      email: 'dave@example.test',
      password: 'dave has a long password',
    });
    expect(pending.ok).toBe(true);
    await system.smtp.waitFor((m) => m.some(to('dave@example.test')));

    const erased = await cra('erase', '--user', 'Carol');
    expect(erased.code).toBe(0);
    expect(erased.stdout.join('\n')).toMatch(
      /^erased carol: AccountErased at sequence \d+; no read model holds a row of it any more; the confirmation email goes to the address it had$/,
    );
    const carolRows = await rowsOfUser(system.world.pool, system.world.schema, carolId);
    expect(carolRows).toEqual(noRows(carolRows));
    const byOperator = (m: ReceivedEmail[]) =>
      m.find((e) => e.to === 'carol@example.test' && e.subject === erasedSubject);
    expect(byOperator(await system.smtp.waitFor((m) => byOperator(m) !== undefined))!.text).toContain(
      "deleted by the service's operator",
    );

    expect((await cra('erase', '--user', 'dave')).code).toBe(0);
    await system.smtp.waitFor((m) => m.some((e) => e.to === 'dave@example.test' && e.subject === erasedSubject));
    const daveRows = await rowsOfUser(system.world.pool, system.world.schema, testUserId('dave'));
    expect(daveRows).toEqual(noRows(daveRows));

    for (const name of ['nobody-here', 'carol']) {
      const unknown = await cra('erase', '--user', name);
      expect(unknown.code).toBe(1);
      expect(unknown.output).toContain(`cra: no account named "${name}": nothing was erased`);
    }
    const missing = await cra('erase');
    expect(missing.code).toBe(2);
    expect(missing.output[0]).toBe('cra: erase takes --user NAME');
    const bad = await cra('erase', '--user', 'no such name!');
    expect(bad.code).toBe(2);
    expect(bad.output[0]).toBe(
      'cra: --user "no such name!" is not a username: Use only letters, digits, dot, underscore and hyphen',
    );

    await settle();
    expect(sentTo('carol@example.test').filter((e) => e.subject === erasedSubject)).toHaveLength(1);
    const verify = await cra('replay', '--verify');
    expect(verify.code).toBe(0);
  }, 90_000);
});
