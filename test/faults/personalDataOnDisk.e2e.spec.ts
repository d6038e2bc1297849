import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERASED, personKeysBucket } from '../../platform/personalData/index.ts';
import { freePort } from '../../platform/embedded.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { testUserId } from '../personalKeys.ts';
import { browser, type Browser } from './support/browser.ts';
import { bytesForms, describeFound, searchFiles, textForms, type Needle } from './support/diskSearch.ts';
import { expectNoSecretsIn, logText, readLog } from './support/invariants.ts';
import { openLab, PUBLIC_URL, waitUntil, type Lab } from './support/lab.ts';
import type { AcceptedEmail } from './support/mailServer.ts';
import { runCra, startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES } from './support/traffic.ts';

// The promise (docs/design.md §9): nothing personal survives an erasure on disk. A person goes through the real web and
// services (register, an alert and its digest, a change of address, a reset asked for, then deleting the account); then
// every service, NATS and PostgreSQL stop cleanly and every byte they keep on disk (the JetStream store with the event
// stream and the person-keys bucket, the whole PostgreSQL data directory with its WAL, the server log, the services'
// data dir) is searched for the person's username and both addresses, in every form, and for their key. Their values
// were only ever written sealed; once the key is destroyed, nothing is left that opens them.
const plan = inject('serverPlan');
// A container keeps its files inside the engine: this test reads the servers' files on this machine.
const filesHere = plan.nats !== 'containers' && plan.postgres !== 'containers';

const unique = () => randomBytes(8).toString('hex');
/** Typed with capitals: the log keeps usernames lower case, so both forms are looked for. */
const typedUsername = `Zoe${unique()}`;
const username = typedUsername.toLowerCase();
const firstEmail = `Zoe.${unique()}@Example.test`;
const secondEmail = `zoe.${unique()}@example.test`;
const password = `pw ${randomBytes(12).toString('base64url')} zoe`;
/** Someone else, who registers the freed username afterwards with an address of their own. */
const newcomerEmail = `other.${unique()}@example.test`;
const newcomerPassword = `pw ${randomBytes(12).toString('base64url')} other`;
const userId = testUserId(username);
/** Their webhook URL: its path is what would tell it (a Slack or Discord URL's path is its credential). */
const webhookPath = `/zoe-hook-${unique()}`;
/** The signing secret their channel was given, as the page showed it once. */
let webhookSecret = '';

const ERASED_SUBJECT = 'Your Currency Ratio Alerter account was deleted';
const ERASURE_DONE = 'account erased: confirmation handled, nothing of it left to the notifier';

let lab: Lab;
let services: ServiceProcess;
let site: string;
/** The person's key while they had it (the key-value entry's bytes, and the key they wrap): none of it may outlive them. */
const keyNeedles: Needle[] = [];
/** A sealed value of theirs the log keeps for good: found on disk, it shows the search reads the files that hold the log. */
let sealedInTheLog = '';

const personal = (): Needle[] => [
  ...textForms('the username', typedUsername),
  ...textForms('the first address', firstEmail),
  ...textForms('the second address', secondEmail),
  ...textForms('the webhook URL', webhookPath),
  ...(webhookSecret ? textForms('the webhook signing secret', webhookSecret) : []),
];

const to = (address: string) => (e: AcceptedEmail) => e.to.toLowerCase().includes(address.toLowerCase());
const mailTo = async (address: string, subject: RegExp, what: string): Promise<AcceptedEmail> => {
  const matches = (e: AcceptedEmail) => to(address)(e) && subject.test(e.subject);
  await lab.mail.waitFor((m) => m.some(matches), 20_000, what);
  return lab.mail.accepted.find(matches)!;
};
/** The path and query of the link an email carries to `path` on this site, as the user clicks it. */
const linkIn = (email: AcceptedEmail, path: string): string => {
  const match = new RegExp(`${PUBLIC_URL.replaceAll('.', '\\.')}(${path}\\?token=[^\\s"<>]+)`).exec(email.text);
  if (!match) throw new Error(`no ${path} link in: ${email.text}`);
  lab.secrets.add(new URL(match[1]!, PUBLIC_URL).searchParams.get('token')!);
  return match[1]!;
};

async function register(b: Browser, name: string, email: string, pass: string): Promise<void> {
  await b.get('/register');
  const asked = await b.post('/register', { username: name, email, password: pass });
  expect(asked.status, asked.body).toBe(200);
  const link = linkIn(await mailTo(email, /registration/, `the verification email to ${email}`), '/verify');
  expect((await b.get(link)).status).toBe(200);
}

async function logIn(b: Browser, name: string, pass: string): Promise<number> {
  await b.get('/login');
  return (await b.post('/login', { username: name, password: pass })).status;
}

beforeAll(async () => {
  if (!filesHere) return;
  // Full-page writes on, as production runs PostgreSQL: the WAL then holds whole pages of the rows, deleted ones too.
  lab = await openLab({ postgres: { fullPageWrites: true } });
  lab.secrets.add(password).add(newcomerPassword);
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  services = await startServices(
    ['web', 'command', 'projector', 'notifier'],
    // Webhooks to this machine (nothing listens there: the delivery only has to be attempted).
    lab.env({ PORT: String(port), WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' }),
    'web+command+projector+notifier',
  );
  // Someone who stays: their key is stored before the person's, so the person's is not alone in the bucket's block
  // file (a block left empty is removed whole, which would hide a key deleted without being overwritten).
  await registerUsers(lab, new CommandLedger(lab.send), 1, 'stays');
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
}, 60_000);

afterAll(async () => {
  await services?.stop();
  await lab?.close();
}, 30_000);

describe.skipIf(!filesHere)('nothing personal survives an erasure on disk', () => {
  it('a person registers, gets a digest, changes address, asks for a reset and deletes the account: their values were only ever written sealed', async () => {
    const zoe = browser(site);
    await register(zoe, typedUsername, firstEmail, password);
    expect(await logIn(zoe, typedUsername, password)).toBe(303);

    // An alert, and a run that crosses it: EUR/USD from 0.98 (run-1) to 1.22.
    await zoe.get('/alerts');
    expect((await zoe.post('/alerts', { base: 'EUR', quote: 'USD', threshold: '1.1' })).status).toBe(303);
    // A webhook channel, whose URL and secret are theirs too.
    await zoe.get('/channels');
    const added = await zoe.post('/channels', { url: `http://127.0.0.1:9${webhookPath}`, format: 'json' });
    expect(added.status, added.body).toBe(201);
    webhookSecret = /whsec_[A-Za-z0-9+/=]+/.exec(added.body)![0];
    lab.secrets.add(webhookSecret);
    await lab.publishRun('run-2', RUN_RATES[1]);
    // Slow: the notifier matches the run and sends the digest (a few hundred ms to a few s on a shared machine).
    await mailTo(firstEmail, /crossed/, 'the digest');

    // The change of address, confirmed from the new inbox; the old one is told.
    await zoe.get('/account/email');
    const asked = await zoe.post('/account/email', { email: secondEmail, password });
    expect(asked.status, asked.body).toBe(200);
    const confirm = linkIn(
      await mailTo(secondEmail, /new .* email address/, 'the link to confirm'),
      '/account/email/confirm',
    );
    expect((await zoe.get(confirm)).body).toContain('Email address changed');
    await mailTo(firstEmail, /email address was changed/, 'the notice to the previous address');

    // While they have an account: the JetStream store holds their values sealed, never as they are.
    const log = await readLog(lab.store);
    const registration = log
      .flatMap((m) => m.events)
      .find((e) => e.type === 'RegistrationRequested' && e.data.userId === userId);
    sealedInTheLog = registration?.type === 'RegistrationRequested' ? registration.data.username : '';
    expect(sealedInTheLog).toMatch(/^sealed:v1:/);
    const key = await lab.personal.keys.current(userId);
    expect(key).toBeDefined();
    const bucket = personKeysBucket(lab.ns);
    const stored = await lab.jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${userId}` });
    const wrapped = new TextDecoder().decode(stored!.data);
    keyNeedles.push(...bytesForms('their key', key!.key), {
      what: 'their key as the bucket stores it',
      bytes: Buffer.from(wrapped.slice(-40)),
    });
    const store = lab.nats.dir!;
    // Slow: the server writes what it stored to its block files in the background; a sealed value there shows the
    // files read are the ones the log and the bucket live in.
    const controls = [
      { what: 'a sealed value of the log', bytes: Buffer.from(sealedInTheLog) },
      { what: 'the stored key', bytes: Buffer.from(wrapped.slice(-40)) },
    ];
    await waitUntil(
      () => new Set(searchFiles([store], controls).map((f) => f.what)).size === controls.length,
      10_000,
      'the sealed username and the wrapped key in the store files',
    );
    const before = searchFiles([store], personal());
    expect(before, describeFound(before)).toEqual([]);

    // A reset asked for from the login page (as someone who forgot the password does), by the current address.
    const guest = browser(site);
    await guest.get('/password/forgot');
    expect((await guest.post('/password/forgot', { email: secondEmail.toUpperCase() })).status).toBe(200);
    await mailTo(secondEmail, /Reset your/, 'the reset link');

    // Deleting the account: the confirmation page first, then the password.
    expect((await zoe.get('/account/delete')).body).toContain('This cannot be undone.');
    const deleted = await zoe.post('/account/delete', { password });
    expect(deleted.location).toBe('/account/deleted');

    // The confirmation goes to the address the account had, and then the key is destroyed.
    await mailTo(secondEmail, new RegExp(ERASED_SUBJECT), 'the confirmation of the erasure');
    const done = await services.waitForLog(
      (l) => l.msg === ERASURE_DONE && l.userId === userId,
      20_000,
      'the erasure handled',
    );
    expect(done).toMatchObject({ by: 'owner', confirmation: 'sent' });
    expect(await lab.personal.keys.current(userId)).toBeUndefined();
  }, 120_000);

  it('after the erasure their fields read as erased, nobody logs in as them, and the username is free for someone else', async () => {
    expect(keyNeedles).not.toEqual([]); // the journey above went through
    const events = await runCra(['events'], lab.env({ LOG_LEVEL: 'warn' }));
    expect(events.code, events.output.join('\n')).toBe(0);
    const printed = events.stdout.join('\n');
    for (const { what, bytes } of personal()) expect(printed, `${what} in cra events`).not.toContain(bytes.toString());
    const theirs = events.stdout.filter((line) => line.includes(userId));
    const fieldsOf = (type: string) =>
      theirs.filter((line) => line.split('\t')[2] === type).map((line) => JSON.parse(line.split('\t')[4]!) as object);
    expect(fieldsOf('RegistrationRequested')).toEqual([expect.objectContaining({ username: ERASED, email: ERASED })]);
    expect(fieldsOf('UserRegistered')).toEqual([expect.objectContaining({ username: ERASED, email: ERASED })]);
    expect(fieldsOf('EmailChangeRequested')).toEqual([expect.objectContaining({ email: ERASED })]);
    expect(fieldsOf('EmailChanged')).toEqual([expect.objectContaining({ email: ERASED, previousEmail: ERASED })]);

    expect(await logIn(browser(site), typedUsername, password)).toBe(401);

    // Someone else takes the username, with an address of their own: their fields open (under a new key).
    const newcomer = browser(site);
    await register(newcomer, username, newcomerEmail, newcomerPassword);
    expect(await logIn(newcomer, username, newcomerPassword)).toBe(303);
    expect((await newcomer.get('/account')).body).toContain(newcomerEmail);
    const exported = JSON.parse((await newcomer.get('/account/export')).body) as {
      account: { username: string; email: string };
    };
    expect(exported.account).toMatchObject({ username, email: newcomerEmail });
    const again = await runCra(['events', '--user', username], lab.env({ LOG_LEVEL: 'warn' }));
    const registered = again.stdout
      .filter((line) => line.split('\t')[2] === 'UserRegistered')
      .map((line) => JSON.parse(line.split('\t')[4]!) as object);
    expect(registered).toEqual([
      expect.objectContaining({ username: ERASED, email: ERASED }),
      expect.objectContaining({ username, email: newcomerEmail }),
    ]);
    await lab.settle({ timeoutMs: 30_000 });
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
  }, 60_000);

  it('once every service, NATS and PostgreSQL have stopped cleanly, no file of theirs holds the username, an address or the key', async () => {
    expect(sealedInTheLog).not.toBe('');
    const newcomerRow = await lab.pool.query<{ email: string }>(
      `SELECT email FROM ${tablesIn(lab.schema)('users')} WHERE user_id = $1`,
      [userId],
    );
    const newcomerSealed = newcomerRow.rows[0]!.email;
    expect(newcomerSealed).toMatch(/^sealed:v1:/);

    await services.stop();
    expect(await services.exited).toEqual({ code: 0, signal: null });
    // The lab's own clients go first, so nothing is connected when the servers stop.
    await lab.nc.close();
    await lab.pool.end();
    await lab.nats.stop(); // SIGTERM: the server writes out its store and exits
    await lab.postgres.stop('fast'); // a shutdown checkpoint: every page on disk

    const nats = [lab.nats.dir!];
    const postgres = [lab.postgres.dataDir!, lab.postgres.logFile!];
    const everything = [...nats, ...postgres, lab.env().CRA_DATA_DIR!];
    // The search reads the files that hold the data: the log keeps the sealed username; the newcomer's sealed address
    // is in the users table and in the WAL.
    expect(searchFiles(nats, [{ what: 'sealed', bytes: Buffer.from(sealedInTheLog) }])).not.toEqual([]);
    const holdingTheRow = searchFiles(postgres, [{ what: 'sealed', bytes: Buffer.from(newcomerSealed) }]);
    expect(holdingTheRow.some((f) => f.file.includes(`${sep}base${sep}`))).toBe(true);
    expect(holdingTheRow.some((f) => f.file.includes(`${sep}pg_wal${sep}`))).toBe(true);

    const found = searchFiles(everything, [
      ...personal(),
      ...keyNeedles,
      ...textForms("the newcomer's address", newcomerEmail),
    ]);
    expect(found, describeFound(found)).toEqual([]);
  }, 60_000);

  it("leaves no password, token or secret in the services' output, nor the person's values", async () => {
    const output = services.output.join('\n');
    for (const { what, bytes } of personal()) expect(output, `${what} in the output`).not.toContain(bytes.toString());
    expectNoSecretsIn(output, lab.secrets, 'the output of the services');
  });
});
