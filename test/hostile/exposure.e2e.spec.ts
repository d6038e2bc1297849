import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../platform/embedded.ts';
import { startServices, type ServiceProcess } from '../faults/support/services.ts';
import { openTestWorld, type TestWorld } from '../harness.ts';
import { TEST_MASTER_KEY } from '../personalKeys.ts';

// What a real `cra start` shows to whom: the dev mailbox (every verification and reset link: an account
// takeover for whoever reads it) and /metrics (which tell whether an address has an account). Each start is a
// real process on the shared NATS and Postgres, in this file's own stream and schema.

let world: TestWorld;
let dataDir: string;
let running: ServiceProcess | undefined;
const METRICS_TOKEN = 'f3b1c9d2e8a7465b9c0d1e2f3a4b5c6d';

beforeAll(async () => {
  world = await openTestWorld();
  dataDir = mkdtempSync(join(tmpdir(), 'cra-exposure-'));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
});
afterAll(async () => {
  await world?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `cra start <services…>` with no SMTP server and the given settings; its base URL and everything it printed. */
async function start(services: string[], settings: Record<string, string> = {}) {
  const port = await freePort();
  running = await startServices(services, {
    NATS_URL: world.natsUrl,
    DATABASE_URL: world.databaseUrl,
    CRA_NAMESPACE: world.tag,
    CRA_SCHEMA: world.schema,
    CRA_DATA_DIR: dataDir,
    PORT: String(port),
    JWT_SECRET: 'a secret for this test only, long enough',
    CRA_MASTER_KEY: TEST_MASTER_KEY,
    // Nothing answers here: the scheduler's fetch at start fails, which is all it does in this test.
    RATES_URL: 'http://127.0.0.1:9/v1',
    LOG_LEVEL: 'info',
    ...settings,
  });
  const cra = running;
  for (let i = 0; i < 100 && !cra.output.some((l) => l.startsWith('CRA is running at')); i++)
    await new Promise((r) => setTimeout(r, 20));
  return { base: `http://127.0.0.1:${port}`, printed: cra.output.find((l) => l.startsWith('CRA is running at')) ?? '' };
}

const status = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;
/** A visitor from elsewhere that a proxy on this machine passes on: the socket is loopback, the client is not. */
const forwarded = { 'x-forwarded-for': '203.0.113.9' };

describe('what a real `cra start` shows of its dev mailbox and metrics, and to whom', () => {
  it('the all-in-one developer start shows both to a browser on this machine, never to a visitor a trusted proxy forwards', async () => {
    const { base, printed } = await start([], { TRUST_PROXY: 'loopback' });
    expect(printed).toContain('/dev/mailbox');
    expect(await status(`${base}/dev/mailbox`)).toBe(200);
    expect(await status(`${base}/metrics`)).toBe(200);
    expect(await status(`${base}/dev/mailbox`, forwarded)).toBe(404);
    expect(await status(`${base}/metrics`, forwarded)).toBe(404);
  }, 60_000);

  it.each([
    ['with NODE_ENV=production', [], { NODE_ENV: 'production' }],
    ['with SMTP_URL set', [], { SMTP_URL: 'smtp://127.0.0.1:9' }],
    ['for `cra start web` alone, as a deployment runs it', ['web'], {}],
    ['for `cra start web notifier` (not every service in this process)', ['web', 'notifier'], {}],
  ])(
    'no dev mailbox %s, not even for this machine',
    async (_case, services: string[], settings: Record<string, string>) => {
      const { base, printed } = await start(services, settings);
      expect(printed).toMatch(/^CRA is running at http:\/\/localhost:\d+$/);
      expect(await status(`${base}/dev/mailbox`)).toBe(404);
      expect(await status(`${base}/healthz`)).toBe(200);
    },
    60_000,
  );

  it('with METRICS_TOKEN set, the metrics go to its bearer only, and not to this machine without it', async () => {
    const { base } = await start(['web'], { METRICS_TOKEN, TRUST_PROXY: 'loopback' });
    expect(await status(`${base}/metrics`)).toBe(401);
    expect(await status(`${base}/metrics`, { authorization: `Bearer ${METRICS_TOKEN.replace(/.$/, '0')}` })).toBe(401);
    expect(await status(`${base}/metrics`, { authorization: `Bearer ${METRICS_TOKEN}` })).toBe(200);
    expect(await status(`${base}/metrics`, { ...forwarded, authorization: `Bearer ${METRICS_TOKEN}` })).toBe(200);
  }, 60_000);
});
