// web-alerts-page: requests/s of GET /alerts for a logged-in user with 20 alerts, against a bare fastify route
// answering the same bytes.
import { event, subjects } from '../events/index.ts';
import { commandClient } from '../platform/commandClient.ts';
import { waitForProjection } from '../platform/projectionWait.ts';
import { linkSecret, linkToken } from '../platform/tokens.ts';
import { startCommandService } from '../services/command/main.ts';
import { startProjector } from '../services/projector/main.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { httpClient } from '../test/webClient.ts';
import { spawnService, underLoad } from './lib/child.ts';
import { BENCH_SECRET, type BenchContext } from './lib/context.ts';
import { httpLoad } from './lib/httpLoad.ts';
import { figure, median, memoryFigure, progress } from './lib/report.ts';
import {
  benchLogger,
  cleanUp,
  connect,
  CURRENCIES,
  newPlace,
  plainDecimal,
  seeded,
  type Connected,
} from './lib/world.ts';
import type * as WebRole from './roles/webService.ts';
import { testUserId } from '../test/personalKeys.ts';

const CONNECTIONS = 32;
const ALERTS = 20;
const RUNS = 60;
const PASSWORD = 'a long benchmark password 9';

/** 60 daily runs (so every chart is full), 20 alerts of one user on different pairs, and a trigger history for some. */
async function seedUserData(
  c: Connected,
  schema: string,
  send: ReturnType<typeof commandClient>,
  userId: string,
): Promise<number> {
  const random = seeded(21);
  const codes = Object.keys(CURRENCIES).filter((code) => code !== 'EUR');
  const meta = (id: string) => ({ occurredAt: new Date().toISOString(), correlationId: id, causationId: id });
  const runSeqs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const asOf = `2026-${String(1 + Math.floor(run / 28)).padStart(2, '0')}-${String(1 + (run % 28)).padStart(2, '0')}`;
    const rates = Object.fromEntries(
      codes.map((code) => [code, plainDecimal(CURRENCIES[code]! * (0.97 + random() * 0.06), 6)]),
    );
    const { seq } = await c.store.append(
      subjects.rates(c.ns, 'frankfurter', asOf),
      [
        event('RatesFetched', {
          provider: 'frankfurter',
          base: 'EUR',
          asOf,
          fetchedAt: new Date().toISOString(),
          rates,
        }),
      ],
      {
        expectedSeq: 0,
        msgId: `rates-${asOf}`,
        meta: meta(`rates-${asOf}`),
      },
    );
    runSeqs.push(seq);
  }
  // A new alert's currencies must be in the latest run the read models know of (the alert decider's rule).
  if (!(await waitForProjection(c.pool, schema, runSeqs.at(-1)!, 30_000)))
    throw new Error('the projector did not catch up with the runs');
  const all = Object.keys(CURRENCIES);
  const alerts = Array.from({ length: ALERTS }, (_, i) => {
    const base = all[i % all.length]!;
    const quote = all[(i * 7 + 3) % all.length] === base ? 'EUR' : all[(i * 7 + 3) % all.length]!;
    return {
      alertId: `alert${i}`,
      base,
      quote,
      threshold: plainDecimal((CURRENCIES[quote]! / CURRENCIES[base]!) * (0.98 + random() * 0.04), 5),
    };
  });
  for (const a of alerts) {
    const reply = await send('SetAlert', { userId, ...a });
    if (!reply.ok) throw new Error(`SetAlert failed: ${reply.error} ${reply.message}`);
  }
  // Five alerts triggered on three runs each: the page shows their history.
  let last = 0;
  for (const [k, runSeq] of runSeqs.slice(-3).entries()) {
    const triggered = alerts.slice(0, 5).map((a) =>
      event('AlertTriggered', {
        alertId: a.alertId,
        userId,
        runSeq,
        base: a.base,
        quote: a.quote,
        threshold: a.threshold,
        previousRatio: '0.5',
        currentRatio: '1.5',
        direction: k % 2 ? 'down' : 'up',
      }),
    );
    last = (
      await c.store.append(subjects.digest(c.ns, runSeq, userId), triggered, {
        expectedSeq: 0,
        msgId: `triggers-${runSeq}`,
        meta: meta(`run-${runSeq}`),
      })
    ).seq;
  }
  return last;
}

export async function webAlertsPage(ctx: BenchContext): Promise<void> {
  const seconds = ctx.quick ? 1.5 : 10;
  const warmupSeconds = ctx.quick ? 0.5 : 2;
  const rounds = ctx.quick ? 1 : 2;
  const place = newPlace(ctx, 'web');
  const c = await connect(place, 'bench-web-setup');
  const logger = benchLogger();
  await migrateSchema(c.pool, place.schema);
  const command = startCommandService(c.nc, {
    store: c.store,
    ns: c.ns,
    pool: c.pool,
    schema: place.schema,
    linkSecret: linkSecret(BENCH_SECRET),
    personal: c.personal,
    now: () => new Date(),
    logger,
  });
  const projector = startProjector({ store: c.store, pool: c.pool, schema: place.schema, logger });
  const web = await spawnService<typeof WebRole>('web', new URL('./roles/webService.ts', import.meta.url));
  const bare = await spawnService<typeof WebRole>('bare-fastify', new URL('./roles/webService.ts', import.meta.url));
  try {
    const url = await web.call('start', place, BENCH_SECRET);
    const send = commandClient(c.nc, c.ns);

    // A real account, registered and logged in the way a person does it (the emailed link is made from the log).
    const username = 'benchuser';
    const userId = testUserId(username);
    const registered = await send('RequestRegistration', { username, email: 'bench@example.com', password: PASSWORD });
    if (!registered.ok) throw new Error(`registration failed: ${registered.message}`);
    const { history } = await c.store.load(subjects.user(c.ns, userId));
    const requested = history.flatMap((h) => h.events).find((e) => e.type === 'RegistrationRequested');
    if (requested?.type !== 'RegistrationRequested') throw new Error('no RegistrationRequested in the log');
    const browser = httpClient(url);
    const verified = await browser.get(
      `/verify?token=${encodeURIComponent(linkToken(linkSecret(BENCH_SECRET), 'verify', userId, requested.data.tokenNonce))}`,
    );
    if (verified.status !== 200) throw new Error(`verification answered ${verified.status}`);
    await browser.get('/login');
    const login = await browser.post('/login', { username, password: PASSWORD });
    if (login.status !== 303 || !browser.cookie('cra_session')) throw new Error(`login answered ${login.status}`);
    const lastSeq = await seedUserData(c, place.schema, send, userId);
    if (!(await waitForProjection(c.pool, place.schema, lastSeq, 30_000)))
      throw new Error('the projector did not catch up');

    const cookie = [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const page = await browser.get('/alerts');
    const rows = page.body.match(/<tr id="alert-/g)?.length ?? 0;
    if (page.status !== 200 || rows !== ALERTS)
      throw new Error(`GET /alerts answered ${page.status} with ${rows} alert rows, expected 200 with ${ALERTS}`);
    const contentType = String(page.headers['content-type']);
    const bareUrl = await bare.call('startBare', page.body, contentType);
    progress(
      `web-alerts-page: ${username} logged in with ${rows} alerts, ${RUNS} runs; the page is ${Buffer.byteLength(page.body)} bytes`,
    );

    const load = (target: string) =>
      httpLoad(`${target}/alerts`, { connections: CONNECTIONS, seconds, headers: { cookie } });
    await httpLoad(`${url}/alerts`, { connections: CONNECTIONS, seconds: warmupSeconds, headers: { cookie } });
    await httpLoad(`${bareUrl}/alerts`, { connections: CONNECTIONS, seconds: warmupSeconds, headers: { cookie } });
    const ours: number[] = [];
    const baseline: number[] = [];
    let memory = { atRestMiB: Infinity, peakMiB: 0 };
    for (let round = 0; round < rounds; round++) {
      const b = await load(bareUrl);
      baseline.push((b.requests / b.ms) * 1000);
      const measured = await underLoad(web, () => load(url));
      const o = measured.result;
      memory = {
        atRestMiB: Math.min(memory.atRestMiB, measured.memory.atRestMiB),
        peakMiB: Math.max(memory.peakMiB, measured.memory.peakMiB),
      };
      if ((o.statuses[200] ?? 0) !== o.requests)
        ctx.fail(`web-alerts-page: not every GET /alerts answered 200: ${JSON.stringify(o.statuses)}`);
      if (o.bytes < o.requests * Buffer.byteLength(page.body) * 0.9)
        ctx.fail('web-alerts-page: the pages served are shorter than the page checked');
      ours.push((o.requests / o.ms) * 1000);
      progress(
        `web-alerts-page round ${round + 1}/${rounds}: ${Math.round(ours.at(-1)!)} requests/s vs bare ${Math.round(baseline.at(-1)!)}`,
      );
    }
    ctx.emit(
      figure(
        'web-alerts-page',
        median(ours),
        'requests/s',
        median(baseline),
        `GET /alerts (session check, ${ALERTS} alerts with current ratio, chart of ${RUNS} runs and trigger history; ${Buffer.byteLength(page.body)} bytes) for one logged-in user, ${CONNECTIONS} keep-alive connections, ${seconds} s per round, median of ${rounds}; baseline: a bare fastify route in the same kind of process with the same logger answering the same bytes; goal ratio >= 0.3`,
      ),
    );
    ctx.emit(memoryFigure('web-alerts-page', 'web', memory));
  } finally {
    await web.call('stop').catch(() => {});
    await bare.call('stop').catch(() => {});
    await web.close();
    await bare.close();
    await command.stop();
    await projector.stop();
    await c.close();
    await cleanUp(place);
  }
}
