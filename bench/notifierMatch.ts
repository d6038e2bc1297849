// notifier-match: time to find every crossed alert of one run among N alerts on 500 pairs, against the old full scan.
import { isDeepStrictEqual } from 'node:util';
import { withProviderBase } from '../events/ratio.ts';
import { tablesIn, type Pool } from '../platform/postgres.ts';
import { crossedAlerts, type AlertRecord, type Run } from '../services/notifier/crossing.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { spawnService, underLoad } from './lib/child.ts';
import type { BenchContext } from './lib/context.ts';
import { figure, median, memoryFigure, progress } from './lib/report.ts';
import { cleanUp, connect, CURRENCIES, newPlace, plainDecimal, seeded } from './lib/world.ts';
import type * as MatchRole from './roles/notifierMatch.ts';

const PAIRS = 500;
const ALERTS_PER_USER = 20;
/** The run under test; alerts are set after the earlier runs (sequences 1 and 2) and mostly before this one. */
const RUN_SEQ = 50_000_000;

type StoredRun = { seq: number; provider: string; base: string; rates: Record<string, string> };

/**
 * Three runs of a EUR-based provider: run 1 has every currency, run 2 lacks ISK (so ISK pairs compare with run 1),
 * the run under test lacks PHP (PHP pairs are skipped) and moves each rate by up to ±0.5 %.
 */
function makeRuns(): StoredRun[] {
  const random = seeded(11);
  const codes = Object.keys(CURRENCIES).filter((c) => c !== 'EUR');
  const ratesOf = (skip: string, wobble: number) =>
    Object.fromEntries(codes.filter((c) => c !== skip).map((c) => [c, plainDecimal(CURRENCIES[c]! * (1 + (random() * 2 - 1) * wobble), 6)]));
  const run1 = ratesOf('', 0.002);
  const run2 = ratesOf('ISK', 0.002);
  const current = Object.fromEntries(Object.entries({ ...run1, ...run2 }).filter(([c]) => c !== 'PHP').map(([c, r]) => [c, plainDecimal(Number(r) * (1 + (random() * 2 - 1) * 0.005), 6)]));
  return [
    { seq: 1, provider: 'frankfurter', base: 'EUR', rates: run1 },
    { seq: 2, provider: 'frankfurter', base: 'EUR', rates: run2 },
    { seq: RUN_SEQ, provider: 'frankfurter', base: 'EUR', rates: current },
  ];
}

/** 500 distinct BASE/QUOTE pairs of the 30 currencies. */
function makePairs(): { base: string; quote: string }[] {
  const random = seeded(12);
  const codes = Object.keys(CURRENCIES);
  const all = codes.flatMap((base) => codes.filter((q) => q !== base).map((quote) => ({ base, quote })));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, PAIRS);
}

/**
 * Alerts number `from` to `to` - 1 of one deterministic sequence (so each size holds the smaller ones): thresholds
 * within ±10 % of the pair's ratio at the previous run (5 significant digits), 20 alerts per user; 1 % are set
 * after the run and 1 % deleted before it, so the rule's filters do work.
 */
function makeAlerts(from: number, to: number, pairs: { base: string; quote: string }[], runs: StoredRun[]): AlertRecord[] {
  const random = seeded(1000 + from);
  const previous = withProviderBase(runs[0]!.base, runs[0]!.rates);
  const alerts: AlertRecord[] = [];
  for (let i = from; i < to; i++) {
    const { base, quote } = pairs[Math.floor(random() * pairs.length)]!;
    const ratio = Number(previous[quote]) / Number(previous[base]);
    const fate = random();
    alerts.push({
      alertId: `a${String(i).padStart(7, '0')}`,
      userId: `u${String(Math.floor(i / ALERTS_PER_USER)).padStart(6, '0')}`,
      base,
      quote,
      threshold: plainDecimal(ratio * (0.9 + random() * 0.2), 5),
      setSeq: fate < 0.01 ? RUN_SEQ + 1 + i : 3 + i,
      deletedSeq: fate >= 0.01 && fate < 0.02 ? RUN_SEQ - 1 : null,
    });
  }
  return alerts;
}

async function insertRuns(pool: Pool, schema: string, runs: StoredRun[]): Promise<void> {
  const t = tablesIn(schema);
  for (const run of runs) {
    await pool.query(`INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, '2026-11-02T17:00:00Z')`, [run.seq, run.provider, run.base, `run-${run.seq}`]);
    const currencies = Object.keys(run.rates);
    await pool.query(`INSERT INTO ${t('rates')} (run_seq, currency, rate) SELECT $1, c, r::numeric FROM unnest($2::text[], $3::text[]) AS x(c, r)`, [run.seq, currencies, currencies.map((c) => run.rates[c])]);
  }
}

/** Multi-row inserts of 20,000 alerts at a time, straight into the read model (as the projector would have left them). */
async function insertAlerts(pool: Pool, schema: string, alerts: AlertRecord[]): Promise<void> {
  const t = tablesIn(schema);
  for (let i = 0; i < alerts.length; i += 20_000) {
    const chunk = alerts.slice(i, i + 20_000);
    await pool.query(
      `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, deleted_seq, deleted_at)
       SELECT id, u, b, q, th::numeric, th, s, '2026-11-01T00:00:00Z', d, CASE WHEN d IS NULL THEN NULL ELSE '2026-11-03T00:00:00Z'::timestamptz END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[]) AS x(id, u, b, q, th, s, d)`,
      [chunk.map((a) => a.alertId), chunk.map((a) => a.userId), chunk.map((a) => a.base), chunk.map((a) => a.quote), chunk.map((a) => a.threshold), chunk.map((a) => a.setSeq), chunk.map((a) => a.deletedSeq)],
    );
  }
  await pool.query(`ANALYZE ${t('alerts')}`);
}

export async function notifierMatch(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
  const repeats = ctx.quick ? 1 : 3;
  const place = newPlace(ctx, 'match');
  const c = await connect(place, 'bench-match-loader');
  const notifier = await spawnService<typeof MatchRole>('notifier', new URL('./roles/notifierMatch.ts', import.meta.url));
  const old = await spawnService<typeof MatchRole>('old-notifier', new URL('./roles/notifierMatch.ts', import.meta.url));
  try {
    await migrateSchema(c.pool, place.schema);
    const runs = makeRuns();
    const pairs = makePairs();
    await insertRuns(c.pool, place.schema, runs);
    const oracleRuns: Run[] = runs.map((r) => ({ seq: r.seq, rates: withProviderBase(r.base, r.rates) }));
    await notifier.call('start', place);
    await old.call('start', place);

    const alerts: AlertRecord[] = [];
    const results: { size: number; ours: number; old: number; crossed: number }[] = [];
    let memory = { atRestMiB: Infinity, peakMiB: 0 };
    for (const size of sizes) {
      const added = makeAlerts(alerts.length, size, pairs, runs);
      const t0 = performance.now();
      await insertAlerts(c.pool, place.schema, added);
      for (const a of added) alerts.push(a);
      progress(`notifier-match: ${size} alerts in the read model (+${added.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

      const measured = await underLoad(notifier, () => notifier.call('match', place, RUN_SEQ, repeats));
      memory = { atRestMiB: Math.min(memory.atRestMiB, measured.memory.atRestMiB), peakMiB: Math.max(memory.peakMiB, measured.memory.peakMiB) };
      const baseline = await old.call('oldMatch', place, RUN_SEQ, repeats);

      const t1 = performance.now();
      const expected = crossedAlerts(oracleRuns, alerts);
      const equal = isDeepStrictEqual(measured.result.result, expected);
      progress(`notifier-match: oracle found ${expected.length} crossed in ${((performance.now() - t1) / 1000).toFixed(1)} s; ours ${equal ? 'equals' : 'DIFFERS FROM'} it; ours ${median(measured.result.ms).toFixed(1)} ms, old ${median(baseline.ms).toFixed(1)} ms (${baseline.result.count} found with floats)`);
      if (!equal) ctx.fail(`notifier-match at ${size} alerts: findCrossedAlerts returned ${measured.result.result.length} alerts, the oracle ${expected.length}; they differ`);
      results.push({ size, ours: median(measured.result.ms), old: median(baseline.ms), crossed: expected.length });
    }

    const describe = (r: (typeof results)[number]) =>
      `${r.size} alerts on ${PAIRS} pairs, one run (${r.crossed} crossed, equal to the pure oracle crossedAlerts); ours: findCrossedAlerts (one set-based query + exact ratios), median of ${repeats} after a warm-up; baseline (old system): select every alert from the same read model and loop over all of them comparing floats, median of ${repeats}; ratio = baseline time / our time, goal >= 20`;
    const largest = results.at(-1)!;
    ctx.emit(figure('notifier-match', largest.ours, 'ms', largest.old, describe(largest), largest.old / largest.ours));
    for (const r of results) ctx.emit(figure(`notifier-match@${r.size}`, r.ours, 'ms', r.old, describe(r), r.old / r.ours));
    const first = results[0]!;
    const steps = results.slice(1).map((r, i) => `${results[i]!.size}→${r.size}: time ×${(r.ours / results[i]!.ours).toFixed(2)} for alerts ×${r.size / results[i]!.size}`);
    ctx.emit(
      figure(
        'notifier-match.growth',
        largest.ours / first.ours,
        'x time',
        largest.size / first.size,
        `how our time grows from ${first.size} to ${largest.size} alerts (${steps.join('; ')}); baseline = how much the number of alerts grew; ratio <= 1 means time grows no faster than the alerts (old system: ×${(largest.old / first.old).toFixed(1)})`,
      ),
    );
    ctx.emit(memoryFigure('notifier-match', 'notifier (matching)', memory));
  } finally {
    await notifier.call('stop').catch(() => {});
    await old.call('stop').catch(() => {});
    await notifier.close();
    await old.close();
    await c.close();
    await cleanUp(place);
  }
}
