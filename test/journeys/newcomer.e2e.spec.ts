import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../platform/embedded.ts';
import { connectNats } from '../../platform/nats.ts';
import { expectNoSecretsIn } from '../faults/support/invariants.ts';
import { httpClient } from '../webClient.ts';

// `npm start` as a newcomer runs it: no NATS_URL, DATABASE_URL or SMTP_URL, so everything is embedded.
// Only the rate provider is a local server (this machine has no internet), speaking Frankfurter's format.

const dataDir = mkdtempSync(join(tmpdir(), 'cra-newcomer-'));
let port: number;
let provider: Server;
let publication = { date: '2026-11-02', rates: { USD: 1.08, JPY: 160.5 } as Record<string, number> };
let running: ChildProcess | undefined;
/** Everything each process printed (`cra start` and every `cra` command), and the secrets none of it may hold. */
const printed: string[] = [];
const secrets = new Set<string>(['my first password']);

function environment() {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !['NATS_URL', 'DATABASE_URL', 'SMTP_URL', 'JWT_SECRET'].includes(k)) env[k] = v;
  const providerPort = (provider.address() as { port: number }).port;
  return {
    ...env,
    CRA_DATA_DIR: dataDir,
    PORT: String(port),
    PUBLIC_URL: `http://localhost:${port}`,
    RATES_URL: `http://127.0.0.1:${providerPort}/v1`,
    LOG_LEVEL: 'info',
  };
}

async function start(): Promise<void> {
  // At info the start logs where its servers listen: that line must not give away their password.
  const child = spawn(process.execPath, ['bin/cra.mjs', 'start'], {
    env: { ...environment(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  const index = printed.push('') - 1;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed in 60 s:\n${printed[index]}`)), 60_000);
    const read = (chunk: Buffer) => {
      printed[index] += chunk.toString();
      if (printed[index]!.includes(`CRA is running at http://localhost:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`cra start exited with ${code}:\n${printed[index]}`)));
  });
}

async function stop(): Promise<number | null> {
  const child = running!;
  running = undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

/** Run a `cra` command (async: the fake provider lives in this process and must keep answering). */
function cra(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/cra.mjs', ...args], {
    env: environment(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once(
      'close',
      (status) => (clearTimeout(timer), printed.push(stdout, stderr), resolve({ status, stdout, stderr })),
    ),
  );
}

const ownerOnly = (path: string) => (statSync(path).mode & 0o077) === 0;

/** What in the data dir holds a secret or a live link (as far as it exists now): the owner's alone. */
function privateEntries(): string[] {
  const mails = readdirSync(join(dataDir, 'mailbox')).map((name) => join('mailbox', name));
  const entries = [
    '.',
    'runtime.json',
    'jwt-secret',
    'nats-password',
    'nats-server.conf',
    'nats-server.pid',
    'nats',
    'pglite',
    'mailbox',
    ...mails,
  ];
  return entries.filter((entry) => existsSync(join(dataDir, entry)));
}

/** The addresses a TCP port listens on, as `ss -ltn` shows them (read from where ss reads them). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const v4 = (hex: string) =>
    hex
      .match(/../g)!
      .reverse()
      .map((b) => parseInt(b, 16))
      .join('.');
  const v6 = (hex: string) => (/^0{32}$/.test(hex) ? '::' : /^0{24}01000000$/.test(hex) ? '::1' : `v6:${hex}`);
  return (['tcp', 'tcp6'] as const).flatMap((file) =>
    readFileSync(`/proc/net/${file}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(([, local, , state]) => state === '0A' && local?.endsWith(`:${hexPort}`))
      .map(([, local]) => (file === 'tcp' ? v4 : v6)(local!.split(':')[0]!)),
  );
}

async function mailbox(client: ReturnType<typeof httpClient>) {
  const list = await client.get('/dev/mailbox');
  return [
    ...list.body.matchAll(
      /<tr><td[^>]*>[^<]*<\/td><td[^>]*>([^<]*)<\/td><td><a href="(\/dev\/mailbox\/[0-9a-f]{24})">([^<]*)<\/a>/g,
    ),
  ].map((m) => ({ to: m[1]!, href: m[2]!, subject: m[3]! }));
}

beforeAll(async () => {
  port = await freePort();
  provider = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ amount: 1.0, base: 'EUR', date: publication.date, rates: publication.rates }));
  });
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  if (running) await stop();
  provider?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a newcomer runs npm start', () => {
  it('registers through the dev mailbox, sets an alert, gets a digest, and finds it all again after a restart', async () => {
    await start();
    const base = `http://localhost:${port}`;
    const browser = httpClient(base);
    expect((await browser.get('/healthz')).status).toBe(200);
    // Loopback only: nobody else on the network reaches the start, its dev mailbox or its metrics.
    expect(listeningAddresses(port)).toEqual(['127.0.0.1']);

    await browser.get('/register');
    expect(
      (
        await browser.post('/register', {
          username: 'newbie',
          email: 'newbie@example.com',
          password: 'my first password',
        })
      ).status,
    ).toBe(200);
    let mails: Awaited<ReturnType<typeof mailbox>> = [];
    // Bounded, not timed: up to 30 s for the first email of a cold start on a busy machine.
    for (let i = 0; i < 300 && mails.length === 0; i++) {
      mails = await mailbox(browser);
      if (mails.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(mails).toHaveLength(1);
    const message = await browser.get(mails[0]!.href);
    const verify = new RegExp(`href="${base}(/verify\\?token=[^"]+)"`).exec(message.body)![1]!.replace(/&amp;/g, '&');
    secrets.add(decodeURIComponent(verify.split('token=')[1]!));
    expect((await browser.get(verify)).status).toBe(200);
    await browser.get('/login');
    expect((await browser.post('/login', { username: 'newbie', password: 'my first password' })).status).toBe(303);

    // Another local user can neither read the data dir's secrets and links nor use its servers.
    const expected = [
      '.',
      'runtime.json',
      'jwt-secret',
      'nats-password',
      'nats-server.conf',
      'nats-server.pid',
      'nats',
      'pglite',
      'mailbox',
    ];
    expect(privateEntries()).toEqual([...expected, expect.stringMatching(/^mailbox\/[0-9a-f]{24}\.json$/)]);
    expect(privateEntries().filter((entry) => !ownerOnly(join(dataDir, entry)))).toEqual([]);
    const runtime = JSON.parse(readFileSync(join(dataDir, 'runtime.json'), 'utf8')) as {
      natsUrl: string;
      databaseUrl: string;
    };
    await expect(
      connectNats(`nats://127.0.0.1:${new URL(runtime.natsUrl).port}`, { name: 'another-local-user' }),
    ).rejects.toThrow(/Authorization Violation/);
    const owner = await connectNats(runtime.natsUrl, { name: 'the-owner' });
    await owner.flush();
    await owner.close();
    // Embedded Postgres asks no password: it listens on a socket in the owner-only data dir, not on a TCP port.
    expect(new URL(runtime.databaseUrl).searchParams.get('host')).toBe(dataDir);

    // The scheduler fetched at start; make sure the first run is in before setting alerts.
    const fetched = await cra('fetch-rates');
    expect(fetched.status, fetched.stderr).toBe(0);
    await browser.get('/alerts');
    const created = await browser.post('/alerts', { base: 'EUR', quote: 'USD', threshold: '1.1' });
    expect([200, 303]).toContain(created.status);
    const alerts = await browser.get('/alerts');
    expect(alerts.body).toContain('EUR/USD');
    expect(alerts.body).toContain('1.08');

    publication = { date: '2026-11-03', rates: { USD: 1.1125, JPY: 161 } };
    expect((await cra('fetch-rates')).status).toBe(0);
    for (let i = 0; i < 100 && mails.length < 2; i++) {
      mails = await mailbox(browser);
      if (mails.length < 2) await new Promise((r) => setTimeout(r, 100));
    }
    expect(mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(/EUR\/USD/),
      expect.stringMatching(/registration/i),
    ]);

    const events = await cra('events', '--user', 'newbie');
    expect(events.status).toBe(0);
    expect(events.stdout).toMatch(/UserRegistered/);
    expect(events.stdout).toMatch(/AlertSet/);
    expect(events.stdout).not.toMatch(/passwordHash|argon2/);
    const verified = await cra('replay', '--verify');
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/read models match/);

    // Tamper with one read-model row: verify must notice; a rebuild repairs it.
    const db = new pg.Client({ connectionString: runtime.databaseUrl });
    await db.connect();
    await db.query(`UPDATE cra.alerts SET threshold_text = '9.99'`);
    await db.end();
    const tampered = await cra('replay', '--verify');
    expect(tampered.status).toBe(1);
    expect(tampered.stdout).toMatch(/DIFFERENT alerts/);
    expect((await cra('replay')).status).toBe(0);
    expect((await cra('replay', '--verify')).status).toBe(0);

    expect(await stop()).toBe(0);
    const emailsBefore = mails.length;

    // A data dir of an older start is readable by everyone: the next start takes that back.
    for (const entry of privateEntries())
      chmodSync(join(dataDir, entry), statSync(join(dataDir, entry)).isDirectory() ? 0o755 : 0o644);
    await start();
    expect(privateEntries().filter((entry) => !ownerOnly(join(dataDir, entry)))).toEqual([]);
    const again = httpClient(base);
    await again.get('/login');
    expect((await again.post('/login', { username: 'newbie', password: 'my first password' })).status).toBe(303);
    expect((await again.get('/alerts')).body).toContain('EUR/USD');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await mailbox(again)).toHaveLength(emailsBefore);
    expect(await stop()).toBe(0);

    // Every process's own output: the web logged the verification request, without its token; and no password.
    const output = printed.join('\n');
    expect(output).toContain('started embedded nats-server');
    expect(output).toContain('"url":"/verify?token=[redacted]"');
    for (const file of ['nats-password', 'jwt-secret']) secrets.add(readFileSync(join(dataDir, file), 'utf8').trim());
    expectNoSecretsIn(output, secrets, 'the output of cra start and the cra commands');
  }, 240_000);
});
