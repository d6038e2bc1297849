import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildReadModels } from '../../services/projector/rebuild.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredUser } from '../../test/testUsers.ts';
import { webClient } from '../../test/webClient.ts';
import type { WebDeps } from '../deps.ts';
import { webStateSchema } from './rateLimitStore.ts';

const PASSWORD = 'the right password';
const perUsername = { max: 3, timeWindowMs: 60_000 };

let system: TestSystem;
const apps: FastifyInstance[] = [];
beforeAll(async () => {
  system = await startTestSystem({ notifier: false });
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await system?.close();
});

/** Another web instance on the same command service and database, as `cra start web` on a second machine. */
async function webInstance(extra: Partial<Omit<WebDeps, 'personal'>> = {}): Promise<FastifyInstance> {
  const app = await system.anotherWeb({
    rateLimits: { loginPerUsername: perUsername },
    ...extra,
  });
  apps.push(app);
  return app;
}

let address = 0;
/** One login attempt from a new client address each time, so only the per-username limit can answer 429. */
async function logInOn(app: FastifyInstance, username: string, password: string) {
  const browser = webClient(app, { ip: `10.20.${Math.floor(address / 250)}.${(address++ % 250) + 1}` });
  await browser.get('/login');
  return (await browser.post('/login', { username, password })).status;
}

describe('rate limits shared by every web instance', () => {
  it('hold across a restart of the web: a new instance on the same database remembers the attempts', async () => {
    await registeredUser(system, 'restarted', PASSWORD);
    const before = await webInstance();
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await logInOn(before, 'restarted', `wrong guess ${i}`));
    await before.close();
    const after = await webInstance();
    statuses.push(await logInOn(after, 'restarted', PASSWORD));
    expect(statuses).toEqual([401, 401, 401, 429]);
  });

  it('two instances share one budget: attempts on either count against both', async () => {
    await registeredUser(system, 'balanced', PASSWORD);
    const [a, b] = [await webInstance(), await webInstance()];
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await logInOn(i % 2 === 0 ? a : b, 'balanced', `wrong guess ${i}`));
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    expect(await logInOn(a, 'balanced', PASSWORD)).toBe(429);
  });

  it('count exactly under concurrency: of many attempts at once, exactly the budget gets through', async () => {
    const app = await webInstance({ rateLimits: { loginPerClient: { max: 7, timeWindowMs: 60_000 } } });
    const browser = webClient(app, { ip: '10.21.0.1' });
    await browser.get('/login');
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        browser.post('/login', { username: `nobody-${i}`, password: 'a guess' }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(7);
    expect(statuses.filter((s) => s === 429)).toHaveLength(13);
  });

  it('start over once the window has passed, and say when in Retry-After', async () => {
    let now = new Date('2026-11-02T10:00:00Z');
    const app = await webInstance({ now: () => now });
    await registeredUser(system, 'patient', PASSWORD);
    for (let i = 0; i < 3; i++) await logInOn(app, 'patient', `wrong guess ${i}`);
    now = new Date(now.getTime() + 45_000);
    const browser = webClient(app, { ip: '10.22.0.1' });
    await browser.get('/login');
    const limited = await browser.post('/login', { username: 'patient', password: PASSWORD });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('15');
    now = new Date(now.getTime() + 15_000);
    expect(await logInOn(app, 'patient', PASSWORD)).toBe(303);
  });

  it("are the web's own state, not a read model: a rebuild of the read models keeps them", async () => {
    await registeredUser(system, 'rebuilt', PASSWORD);
    const app = await webInstance();
    for (let i = 0; i < 3; i++) await logInOn(app, 'rebuilt', `wrong guess ${i}`);
    await rebuildReadModels({
      store: system.world.store,
      pool: system.world.pool,
      schema: system.world.schema,
      logger: system.world.logger,
    });
    expect(await logInOn(app, 'rebuilt', PASSWORD)).toBe(429);
    const tables = await system.world.pool.query<{ table_schema: string }>(
      `SELECT table_schema FROM information_schema.tables WHERE table_name = 'rate_limits' AND table_schema LIKE $1`,
      [`${system.world.schema}%`],
    );
    expect(tables.rows.map((r) => r.table_schema)).toEqual([webStateSchema(system.world.schema)]);
  });
});
