// daily-run: a full day's run at scale. From RatesFetched appended to the last digest the SMTP sink accepted, with the
// projector and two notifier instances each in its own process, against raw nodemailer sending as many emails.
import { jetstreamManager } from '@nats-io/jetstream';
import { event, subjects } from '../events/index.ts';
import { withProviderBase } from '../events/ratio.ts';
import { tablesIn } from '../platform/postgres.ts';
import { crossedAlerts, type AlertRecord, type Run } from '../services/notifier/crossing.ts';
import { CHECKPOINT, migrateSchema, readCheckpoint } from '../services/projector/projector.ts';
import { insertAlerts, insertRuns, insertUsers, makeAlerts, makePairs, makeRuns, registeredUserId, THRESHOLDS_ONLY, type AlertMix, type AlertPlan } from './lib/alertWorld.ts';
import { spawnService, type ServiceProcess } from './lib/child.ts';
import { cpuBetween, cpuMark } from './lib/cpuUse.ts';
import { BENCH_SECRET, type BenchContext } from './lib/context.ts';
import { figure, memoryFigure, mib, progress } from './lib/report.ts';
import { cleanUp, connect, newPlace, type Connected } from './lib/world.ts';
import { NOTIFIER_CONCURRENCY } from './roles/digestMailers.ts';
import type * as MailersRole from './roles/digestMailers.ts';
import type * as NotifierRole from './roles/notifierService.ts';
import type * as ProjectorRole from './roles/projectorService.ts';
import type * as SinkRole from './roles/smtpSink.ts';

/** The day: how many users, how many alerts, and of which kinds (a kind the Alerts issue adds gets a share here). */
export type Day = { users: number; alerts: number; mix: AlertMix };
const FULL: Day = { users: 100_000, alerts: 1_000_000, mix: THRESHOLDS_ONLY };
const QUICK: Day = { users: 1_000, alerts: 10_000, mix: THRESHOLDS_ONLY };
const PAIRS = 500;
const NOTIFIERS = 2;

/** Poll `done` every `everyMs` until it holds; false once `timeoutMs` has passed. */
async function until(done: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/**
 * The read models as the projector would have left them at the end of the day before the run: the two earlier runs,
 * the users and their alerts (multi-row inserts after migrate), the checkpoint just before the run. The log holds
 * only what the notifier reads from it: the run. Its earlier part (the registrations and AlertSets the read models
 * were built from) is left out, and the stream's next sequence set past it, so the run follows the alerts' set_seq.
 */
async function loadTheDay(c: Connected, schema: string, day: Day): Promise<{ alerts: AlertRecord[]; runSeq: number; oracleRuns: Run[]; plan: AlertPlan }> {
  const runSeq = 10 + day.alerts;
  const runs = makeRuns(runSeq);
  const plan: AlertPlan = { pairs: makePairs(PAIRS), runs, runSeq, alertsPerUser: day.alerts / day.users, mix: day.mix, userId: registeredUserId };
  await migrateSchema(c.pool, schema);
  await insertRuns(c.pool, schema, runs.slice(0, 2));
  await insertUsers(c.pool, schema, day.users);
  const alerts = makeAlerts(0, day.alerts, plan);
  await insertAlerts(c.pool, schema, alerts);
  const t = tablesIn(schema);
  await c.pool.query(`INSERT INTO ${t('checkpoints')} (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq`, [CHECKPOINT, runSeq - 1]);
  const jsm = await jetstreamManager(c.nc);
  await jsm.streams.purge(c.ns.stream, { seq: runSeq });
  return { alerts, runSeq, plan, oracleRuns: runs.map((r) => ({ seq: r.seq, rates: withProviderBase(r.base, r.rates) })) };
}

export async function dailyRun(ctx: BenchContext): Promise<void> {
  const day = ctx.quick ? QUICK : FULL;
  const timeoutMs = ctx.quick ? 60_000 : 15 * 60_000;
  const place = newPlace(ctx, 'day');
  const c = await connect(place, 'bench-day-setup');
  const sink = await spawnService<typeof SinkRole>('smtp-sink', new URL('./roles/smtpSink.ts', import.meta.url));
  const projector = await spawnService<typeof ProjectorRole>('projector', new URL('./roles/projectorService.ts', import.meta.url));
  const notifiers: ServiceProcess<typeof NotifierRole>[] = [];
  for (let i = 1; i <= NOTIFIERS; i++) notifiers.push(await spawnService<typeof NotifierRole>('notifier', new URL('./roles/notifierService.ts', import.meta.url)));
  const raw = await spawnService<typeof MailersRole>('raw-nodemailer', new URL('./roles/digestMailers.ts', import.meta.url));
  const services: { name: string; process: ServiceProcess<unknown> }[] = [{ name: 'projector', process: projector }, ...notifiers.map((n, i) => ({ name: `notifier-${i + 1}`, process: n }))];
  try {
    const t0 = performance.now();
    const { alerts, runSeq, oracleRuns, plan } = await loadTheDay(c, place.schema, day);
    const run = plan.runs.at(-1)!;
    const crossed = crossedAlerts(oracleRuns, alerts);
    const expected = new Set(crossed.map((a) => a.userId));
    progress(`daily-run: ${day.users} users with ${day.alerts} alerts on ${PAIRS} pairs in the read models in ${((performance.now() - t0) / 1000).toFixed(1)} s; the run crosses ${crossed.length} alerts of ${expected.size} users`);

    const smtpUrl = await sink.call('start');
    await projector.call('start', place);
    await projector.call('follow', place);
    for (const [i, n] of notifiers.entries()) await n.call('start', place, smtpUrl, BENCH_SECRET, `notifier-${i + 1}`);
    // Both instances are pulling on the shared durable consumer before the run is appended.
    const jsm = await jetstreamManager(c.nc);
    const consumer = () => jsm.consumers.info(c.ns.stream, 'cra-notifier').catch(() => undefined);
    if (!(await until(async () => ((await consumer())?.num_waiting ?? 0) >= NOTIFIERS, 30_000))) throw new Error('the notifiers did not start pulling within 30 s');
    const atRest = await Promise.all(services.map((s) => s.process.resetPeak()));
    const ourProcesses = { ...Object.fromEntries(services.map((s) => [s.name, s.process])), 'smtp-sink': sink };
    const cpuBefore = await cpuMark(ourProcesses);

    // The run: the time is from just before its append to the last email the sink accepted.
    const appendedAt = Date.now();
    const { seq } = await c.store.append(subjects.rates(c.ns, run.provider, run.asOf), [event('RatesFetched', { provider: run.provider, base: run.base, asOf: run.asOf, fetchedAt: `${run.asOf}T16:05:00.000Z`, rates: run.rates })], {
      expectedSeq: 0,
      msgId: `rates-${run.asOf}`,
      meta: { occurredAt: new Date().toISOString(), correlationId: `run-${run.asOf}`, causationId: `run-${run.asOf}` },
    });
    if (seq !== runSeq) throw new Error(`the run was stored at ${seq}, expected ${runSeq}`);
    const allArrived = await until(async () => (await sink.call('count')) >= expected.size, timeoutMs, 100);
    const ourCpu = cpuBetween(cpuBefore, await cpuMark(ourProcesses));
    // Then until everything is worked off: the notifiers' consumer has nothing pending and the projector is at the end.
    const settled = await until(async () => {
      const info = await consumer();
      return info?.num_pending === 0 && info.num_ack_pending === 0 && (await readCheckpoint(c.pool, place.schema)) === (await c.store.lastSeq());
    }, 60_000, 200);
    const peaks = await Promise.all(services.map((s) => s.process.peak()));
    const received = await sink.call('take');
    const worked = (await Promise.all(notifiers.map((n) => n.call('runs')))).map((list) => list.filter((r) => r.seq === runSeq));
    if (!allArrived) ctx.fail(`daily-run: the sink got ${received.length} of ${expected.size} digests within ${timeoutMs / 1000} s`);
    if (!settled) ctx.fail('daily-run: the notifiers or the projector did not finish working off the run within 60 s of the last email');

    // Every user with a crossed alert got exactly one digest, from one of the two instances, recorded once.
    const t = tablesIn(place.schema);
    const emailOf = new Map<string, string>();
    for (let n = 0; n < day.users; n++) if (expected.has(registeredUserId(n))) emailOf.set(`user${n}@example.com`, registeredUserId(n));
    const recipients = new Map<string, number>();
    for (const r of received) recipients.set(r.to, (recipients.get(r.to) ?? 0) + 1);
    const twice = [...recipients].filter(([, times]) => times > 1).length;
    const stranger = [...recipients.keys()].filter((to) => !emailOf.has(to)).length;
    const ids = new Set(received.map((r) => r.messageId));
    if (received.length !== expected.size || recipients.size !== expected.size || twice > 0 || stranger > 0 || ids.size !== expected.size) {
      ctx.fail(`daily-run: expected one digest to each of ${expected.size} users; the sink got ${received.length} to ${recipients.size} recipients (${twice} twice or more, ${stranger} not expected) with ${ids.size} Message-IDs`);
    }
    const emailed = worked.flat().reduce((sum, r) => sum + r.outcome.emailed, 0);
    if (emailed !== expected.size) ctx.fail(`daily-run: the notifiers say they emailed ${emailed} users (${worked.map((w, i) => `notifier-${i + 1}: ${w.map((r) => r.outcome.emailed).join('+') || 0}`).join(', ')}), expected ${expected.size}`);
    const recorded = await c.pool.query<{ emails: number; users: number }>(`SELECT count(*)::int AS emails, count(DISTINCT user_id)::int AS users FROM ${t('emails_sent')} WHERE kind = 'alert-digest' AND reference LIKE $1`, [`${runSeq}.%`]);
    const triggers = await c.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t('alert_triggers')} WHERE run_seq = $1`, [runSeq]);
    if (recorded.rows[0]!.emails !== expected.size || recorded.rows[0]!.users !== expected.size || triggers.rows[0]!.n !== crossed.length) {
      ctx.fail(`daily-run: the log (as projected) records ${recorded.rows[0]!.emails} digests to ${recorded.rows[0]!.users} users and ${triggers.rows[0]!.n} triggers; expected ${expected.size} and ${crossed.length}`);
    }

    const last = Math.max(...received.map((r) => r.at));
    const first = Math.min(...received.map((r) => r.at));
    const oursS = (last - appendedAt) / 1000;
    const byInstance = worked.map((w, i) => `notifier-${i + 1} ${w.reduce((sum, r) => sum + r.outcome.emailed, 0)}`).join(', ');
    progress(`daily-run: ${received.length} digests in ${oursS.toFixed(2)} s from the append (first email after ${((first - appendedAt) / 1000).toFixed(2)} s, then ${(received.length / Math.max(0.001, (last - first) / 1000)).toFixed(0)}/s); emailed by ${byInstance}`);
    progress(`daily-run: ours, append to last email: ${ourCpu}`);

    // Baseline: raw nodemailer sends the same digests (rendered beforehand) to the same sink, after a short warm-up.
    await raw.call('start', place, smtpUrl, BENCH_SECRET);
    const prepared = await raw.call('prepare', place, { seq: runSeq, asOf: run.asOf });
    if (prepared !== expected.size) ctx.fail(`daily-run baseline: prepared ${prepared} digests, expected ${expected.size}`);
    await raw.call('sendPrepared', smtpUrl, Math.min(500, prepared));
    await sink.call('take');
    const baseProcesses = { 'raw-nodemailer': raw, 'smtp-sink': sink };
    const baseCpuBefore = await cpuMark(baseProcesses);
    const base = await raw.call('sendPrepared', smtpUrl);
    const baseCpu = cpuBetween(baseCpuBefore, await cpuMark(baseProcesses));
    const baseReceived = await sink.call('take');
    if (baseReceived.length !== prepared) ctx.fail(`daily-run baseline: the sink received ${baseReceived.length} of ${prepared}`);
    const baseS = base.ms / 1000;
    progress(`daily-run: raw nodemailer sent ${base.sent} in ${baseS.toFixed(2)} s; ${baseCpu}`);

    ctx.emit(
      figure(
        'daily-run',
        oursS,
        's',
        baseS,
        `a day's run: ${day.users} users, ${day.alerts} alerts (${Object.entries(day.mix).map(([kind, share]) => `${kind} ${share * 100} %`).join(', ')}) on ${PAIRS} pairs in the read models; the run crosses ${crossed.length} alerts of ${expected.size} users. Time from RatesFetched appended to the last digest accepted by a local SMTP sink, with the projector and ${NOTIFIERS} notifier instances (startNotifier, one durable consumer) each in its own process (emailed by ${byInstance}; first email after ${((first - appendedAt) / 1000).toFixed(2)} s). Baseline: raw nodemailer sendMail of the same ${prepared} digests, rendered beforehand, same transport options and concurrency (${NOTIFIER_CONCURRENCY}), same sink. ratio = baseline time / our time, goal >= 0.5`,
        baseS / oursS,
      ),
    );
    for (const [i, s] of services.entries()) ctx.emit(memoryFigure(`daily-run.${s.name}`, s.name, { atRestMiB: mib(atRest[i]!), peakMiB: mib(peaks[i]!) }));
  } finally {
    for (const p of [...notifiers, projector, raw, sink]) await p.call('stop').catch(() => {});
    for (const p of [...notifiers, projector, raw, sink]) await p.close();
    await c.close();
    await cleanUp(place);
  }
}
