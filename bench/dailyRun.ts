// daily-run: a full day's run at scale. From RatesFetched appended to the last digest the SMTP sink accepted, with the
// projector and two notifier instances each in its own process, against raw nodemailer sending as many emails.
import { jetstreamManager } from '@nats-io/jetstream';
import { event, subjects } from '../events/index.ts';
import { withProviderBase } from '../events/ratio.ts';
import { tablesIn } from '../platform/postgres.ts';
import { crossedAlerts, type AlertRecord, type RecordedTrigger, type Run } from '../services/notifier/crossing.ts';
import { CHECKPOINT, migrateSchema, readCheckpoint } from '../services/projector/projector.ts';
import {
  insertAlerts,
  insertRuns,
  insertUsers,
  makePairs,
  makeRuns,
  nextRun,
  registeredUserId,
  EVERY_KIND,
  insertTriggers,
  makeAlertsAndTriggers,
  type AlertMix,
  type StoredRun,
} from './lib/alertWorld.ts';
import { spawnService, type ServiceProcess } from './lib/child.ts';
import { cpuBetween, cpuMark } from './lib/cpuUse.ts';
import { BENCH_SECRET, type BenchContext } from './lib/context.ts';
import { figure, median, memoryFigure, mib, progress } from './lib/report.ts';
import { cleanUp, connect, newPlace, type Connected, type Place } from './lib/world.ts';
import { NOTIFIER_CONCURRENCY } from './roles/digestMailers.ts';
import type * as MailersRole from './roles/digestMailers.ts';
import type * as NotifierRole from './roles/notifierService.ts';
import type * as ProjectorRole from './roles/projectorService.ts';
import type * as SinkRole from './roles/smtpSink.ts';

/** The day: how many users, how many alerts, and of which kinds (a kind the Alerts issue adds gets a share here). */
export type Day = { users: number; alerts: number; mix: AlertMix; rounds: number };
/** Rounds are consecutive days' runs, each followed by its baseline, so a burst of the machine's other load hits one round. */
const FULL: Day = { users: 100_000, alerts: 1_000_000, mix: EVERY_KIND, rounds: 3 };
const QUICK: Day = { users: 1_000, alerts: 10_000, mix: EVERY_KIND, rounds: 2 };
const PAIRS = 500;
const NOTIFIERS = 2;

type Sink = ServiceProcess<typeof SinkRole>;
type Notifier = ServiceProcess<typeof NotifierRole>;

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
 * The read models as the projector would have left them at the end of the day before the first run: two earlier runs,
 * the users and their alerts (multi-row inserts after migrate), the checkpoint just before the run. The log holds only
 * what the notifier reads from it: the runs. Its earlier part (the registrations and AlertSets the read models were
 * built from) is left out, and the stream's next sequence set past it, so the first run follows the alerts' set_seq.
 */
async function loadTheDay(
  c: Connected,
  schema: string,
  day: Day,
): Promise<{ alerts: AlertRecord[]; triggers: RecordedTrigger[]; runs: StoredRun[] }> {
  const runSeq = 10 + day.alerts;
  const runs = makeRuns(runSeq);
  const { alerts, triggers } = makeAlertsAndTriggers(0, day.alerts, {
    pairs: makePairs(PAIRS),
    runs,
    runSeq,
    alertsPerUser: day.alerts / day.users,
    mix: day.mix,
    userId: registeredUserId,
  });
  await migrateSchema(c.pool, schema);
  await insertRuns(c.pool, schema, runs.slice(0, 2));
  await insertUsers(c.pool, schema, day.users, c.personal);
  await insertAlerts(c.pool, schema, alerts);
  await insertTriggers(c.pool, schema, triggers);
  await c.pool.query(
    `INSERT INTO ${tablesIn(schema)('checkpoints')} (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET seq = EXCLUDED.seq`,
    [CHECKPOINT, runSeq - 1],
  );
  await (await jetstreamManager(c.nc)).streams.purge(c.ns.stream, { seq: runSeq });
  return { alerts, triggers, runs };
}

type Services = { sink: Sink; projector: ServiceProcess<typeof ProjectorRole>; notifiers: Notifier[] };

/**
 * One day's run: append it, wait for the last digest at the sink, then until everything is worked off. Checks that each
 * user `crossed` names got exactly one digest, from one of the instances, recorded once in the log (as projected).
 */
async function dayRun(
  ctx: BenchContext,
  c: Connected,
  place: Place,
  s: Services,
  run: StoredRun,
  crossed: ReturnType<typeof crossedAlerts>,
  users: number,
) {
  const expected = new Set(crossed.map((a) => a.userId));
  const timeoutMs = ctx.quick ? 60_000 : 15 * 60_000;
  const named = {
    projector: s.projector,
    ...Object.fromEntries(s.notifiers.map((n, i) => [`notifier-${i + 1}`, n])),
    'smtp-sink': s.sink,
  };
  const cpuBefore = await cpuMark(named);
  // The time runs from just before the append to the last email the sink accepted.
  const appendedAt = Date.now();
  const { seq } = await c.store.append(
    subjects.rates(c.ns, run.provider, run.asOf),
    [
      event('RatesFetched', {
        provider: run.provider,
        base: run.base,
        asOf: run.asOf,
        fetchedAt: `${run.asOf}T16:05:00.000Z`,
        rates: run.rates,
      }),
    ],
    {
      expectedSeq: 0,
      msgId: `rates-${run.asOf}`,
      meta: { occurredAt: new Date().toISOString(), correlationId: `run-${run.asOf}`, causationId: `run-${run.asOf}` },
    },
  );
  if (seq !== run.seq) throw new Error(`the run of ${run.asOf} was stored at ${seq}, expected ${run.seq}`);
  const allArrived = await until(async () => (await s.sink.call('count')) >= expected.size, timeoutMs, 100);
  const cpu = cpuBetween(cpuBefore, await cpuMark(named));
  // Then until everything is worked off: the notifiers' consumer has nothing pending and the projector is at the end.
  const jsm = await jetstreamManager(c.nc);
  const settled = await until(
    async () => {
      const info = await jsm.consumers.info(c.ns.stream, 'cra-notifier');
      return (
        info.num_pending === 0 &&
        info.num_ack_pending === 0 &&
        (await readCheckpoint(c.pool, place.schema)) === (await c.store.lastSeq())
      );
    },
    60_000,
    200,
  );
  const received = await s.sink.call('take');
  const worked = (await Promise.all(s.notifiers.map((n) => n.call('runs')))).map((list) =>
    list.filter((r) => r.seq === run.seq),
  );
  const what = `daily-run, run of ${run.asOf}`;
  if (!allArrived)
    ctx.fail(`${what}: the sink got ${received.length} of ${expected.size} digests within ${timeoutMs / 1000} s`);
  if (!settled)
    ctx.fail(
      `${what}: the notifiers or the projector did not finish working off the run within 60 s of the last email`,
    );

  const emailOf = new Set<string>();
  for (let n = 0; n < users; n++) if (expected.has(registeredUserId(n))) emailOf.add(`user${n}@example.com`);
  const recipients = new Map<string, number>();
  for (const r of received) recipients.set(r.to, (recipients.get(r.to) ?? 0) + 1);
  const twice = [...recipients.values()].filter((times) => times > 1).length;
  const stranger = [...recipients.keys()].filter((to) => !emailOf.has(to)).length;
  const ids = new Set(received.map((r) => r.messageId));
  if (
    received.length !== expected.size ||
    recipients.size !== expected.size ||
    twice > 0 ||
    stranger > 0 ||
    ids.size !== expected.size
  ) {
    ctx.fail(
      `${what}: expected one digest to each of ${expected.size} users; the sink got ${received.length} to ${recipients.size} recipients (${twice} twice or more, ${stranger} not expected) with ${ids.size} Message-IDs`,
    );
  }
  const emailedBy = worked.map((w) => w.reduce((sum, r) => sum + r.outcome.emailed, 0));
  if (emailedBy.reduce((a, b) => a + b, 0) !== expected.size)
    ctx.fail(`${what}: the notifiers say they emailed ${emailedBy.join(' + ')} users, expected ${expected.size}`);
  const t = tablesIn(place.schema);
  const recorded = await c.pool.query<{ emails: number; users: number }>(
    `SELECT count(*)::int AS emails, count(DISTINCT user_id)::int AS users FROM ${t('emails_sent')} WHERE kind = 'alert-digest' AND reference LIKE $1`,
    [`${run.seq}.%`],
  );
  const triggers = await c.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${t('alert_triggers')} WHERE run_seq = $1`,
    [run.seq],
  );
  const { emails, users: emailedUsers } = recorded.rows[0]!;
  if (emails !== expected.size || emailedUsers !== expected.size || triggers.rows[0]!.n !== crossed.length) {
    ctx.fail(
      `${what}: the log (as projected) records ${emails} digests to ${emailedUsers} users and ${triggers.rows[0]!.n} triggers; expected ${expected.size} and ${crossed.length}`,
    );
  }

  const last = Math.max(...received.map((r) => r.at));
  const first = Math.min(...received.map((r) => r.at));
  const seconds = (last - appendedAt) / 1000;
  const byInstance = emailedBy.map((n, i) => `notifier-${i + 1} ${n}`).join(', ');
  progress(
    `${what}: ${received.length} digests in ${seconds.toFixed(2)} s from the append (first after ${((first - appendedAt) / 1000).toFixed(2)} s, then ${(received.length / Math.max(0.001, (last - first) / 1000)).toFixed(0)}/s); emailed by ${byInstance}`,
  );
  progress(`${what}: ${cpu}`);
  return { seconds, digests: expected.size, byInstance };
}

export async function dailyRun(ctx: BenchContext): Promise<void> {
  const day = ctx.quick ? QUICK : FULL;
  const place = newPlace(ctx, 'day');
  const c = await connect(place, 'bench-day-setup');
  const sink = await spawnService<typeof SinkRole>('smtp-sink', new URL('./roles/smtpSink.ts', import.meta.url));
  const projector = await spawnService<typeof ProjectorRole>(
    'projector',
    new URL('./roles/projectorService.ts', import.meta.url),
  );
  const notifiers: Notifier[] = [];
  for (let i = 1; i <= NOTIFIERS; i++)
    notifiers.push(
      await spawnService<typeof NotifierRole>('notifier', new URL('./roles/notifierService.ts', import.meta.url)),
    );
  const raw = await spawnService<typeof MailersRole>(
    'raw-nodemailer',
    new URL('./roles/digestMailers.ts', import.meta.url),
  );
  const services = [
    { name: 'projector', process: projector },
    ...notifiers.map((n, i) => ({ name: `notifier-${i + 1}`, process: n })),
  ];
  try {
    const t0 = performance.now();
    const { alerts, triggers, runs } = await loadTheDay(c, place.schema, day);
    progress(
      `daily-run: ${day.users} users with ${day.alerts} alerts on ${PAIRS} pairs in the read models in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const smtpUrl = await sink.call('start');
    await projector.call('start', place);
    await projector.call('follow', place);
    for (const [i, n] of notifiers.entries()) await n.call('start', place, smtpUrl, BENCH_SECRET, `notifier-${i + 1}`);
    await raw.call('start', place, smtpUrl, BENCH_SECRET);
    // Both instances are pulling on the shared durable consumer before the first run is appended.
    const jsm = await jetstreamManager(c.nc);
    const pulling = async () =>
      ((await jsm.consumers.info(c.ns.stream, 'cra-notifier').catch(() => undefined))?.num_waiting ?? 0) >= NOTIFIERS;
    if (!(await until(pulling, 30_000))) throw new Error('the notifiers did not start pulling within 30 s');

    const atRest = await Promise.all(services.map((s) => s.process.resetPeak()));
    const oracleRuns: Run[] = runs
      .slice(0, 2)
      .map((r) => ({ seq: r.seq, asOf: r.asOf, rates: withProviderBase(r.base, r.rates) }));
    const rounds: { ours: number; baseline: number; digests: number; crossed: number; byInstance: string }[] = [];
    let run = runs[2]!;
    for (let round = 1; round <= day.rounds; round++) {
      // Each day's run moves the rates again from the day before's, and comes after that run's digests in the log.
      if (round > 1) run = nextRun(run, (await c.store.lastSeq()) + 1);
      oracleRuns.push({ seq: run.seq, asOf: run.asOf, rates: withProviderBase(run.base, run.rates) });
      const crossed = crossedAlerts(oracleRuns, alerts, triggers);
      const ours = await dayRun(ctx, c, place, { sink, projector, notifiers }, run, crossed, day.users);
      // What the day triggered is recorded: a once alert it triggered is done for the days after.
      for (const a of crossed) triggers.push({ alertId: a.alertId, runSeq: run.seq });

      // Baseline: raw nodemailer sends the same digests (rendered beforehand) to the same sink, after a warm-up the first time.
      const prepared = await raw.call('prepare', place, { seq: run.seq, asOf: run.asOf });
      if (prepared !== ours.digests)
        ctx.fail(`daily-run baseline, run of ${run.asOf}: prepared ${prepared} digests, expected ${ours.digests}`);
      if (round === 1) {
        await raw.call('sendPrepared', smtpUrl, Math.min(500, prepared));
        await sink.call('take');
      }
      const named = { 'raw-nodemailer': raw, 'smtp-sink': sink };
      const cpuBefore = await cpuMark(named);
      const base = await raw.call('sendPrepared', smtpUrl);
      const cpu = cpuBetween(cpuBefore, await cpuMark(named));
      const baseReceived = await sink.call('take');
      if (baseReceived.length !== prepared)
        ctx.fail(`daily-run baseline, run of ${run.asOf}: the sink received ${baseReceived.length} of ${prepared}`);
      progress(
        `daily-run baseline, run of ${run.asOf}: raw nodemailer sent ${base.sent} in ${(base.ms / 1000).toFixed(2)} s; ${cpu}`,
      );
      rounds.push({
        ours: ours.seconds,
        baseline: base.ms / 1000,
        digests: ours.digests,
        crossed: crossed.length,
        byInstance: ours.byInstance,
      });
    }
    const peaks = await Promise.all(services.map((s) => s.process.peak()));

    const ours = median(rounds.map((r) => r.ours));
    const baseline = median(rounds.map((r) => r.baseline));
    const each = rounds
      .map(
        (r) =>
          `${r.ours.toFixed(1)} s vs ${r.baseline.toFixed(1)} s for ${r.digests} digests (${r.crossed} alerts crossed; ${r.byInstance})`,
      )
      .join('; ');
    ctx.emit(
      figure(
        'daily-run',
        ours,
        's',
        baseline,
        `a day's run: ${day.users} users, ${day.alerts} alerts (${Object.entries(day.mix)
          .map(([kind, share]) => `${kind} ${share * 100} %`)
          .join(
            ', ',
          )}) on ${PAIRS} pairs in the read models; time from RatesFetched appended to the last digest accepted by a local SMTP sink, with the projector and ${NOTIFIERS} notifier instances (startNotifier, one durable consumer) each in its own process; median of ${day.rounds} consecutive days' runs, each followed by its baseline: ${each}. Baseline: raw nodemailer sendMail of the same digests, rendered beforehand, same transport options and concurrency (${NOTIFIER_CONCURRENCY}), same sink. ratio = baseline time / our time, goal >= 0.5`,
        baseline / ours,
      ),
    );
    for (const [i, s] of services.entries())
      ctx.emit(memoryFigure(`daily-run.${s.name}`, s.name, { atRestMiB: mib(atRest[i]!), peakMiB: mib(peaks[i]!) }));
  } finally {
    for (const p of [...notifiers, projector, raw, sink]) await p.call('stop').catch(() => {});
    for (const p of [...notifiers, projector, raw, sink]) await p.close();
    await c.close();
    await cleanUp(place);
  }
}
