// notifier-match: time to find every alert one run triggers among N alerts of every kind on 500 pairs, against the old full scan.
import { isDeepStrictEqual } from 'node:util';
import { withProviderBase } from '../events/ratio.ts';
import { crossedAlerts, type AlertRecord, type RecordedTrigger, type Run } from '../services/notifier/crossing.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import {
  EVERY_KIND,
  insertAlerts,
  insertRuns,
  insertTriggers,
  makeAlertsAndTriggers,
  makePairs,
  makeRuns,
  type AlertPlan,
} from './lib/alertWorld.ts';
import { spawnService, underLoad } from './lib/child.ts';
import type { BenchContext } from './lib/context.ts';
import { figure, median, memoryFigure, progress } from './lib/report.ts';
import { cleanUp, connect, newPlace } from './lib/world.ts';
import type * as MatchRole from './roles/notifierMatch.ts';

const PAIRS = 500;
const ALERTS_PER_USER = 20;
/** The run under test; alerts are set after the earlier runs (sequences 1 and 2) and mostly before this one. */
const RUN_SEQ = 50_000_000;

export async function notifierMatch(ctx: BenchContext): Promise<void> {
  const sizes = ctx.quick ? [1_000, 10_000] : [10_000, 100_000, 1_000_000];
  const repeats = ctx.quick ? 1 : 3;
  const place = newPlace(ctx, 'match');
  const c = await connect(place, 'bench-match-loader');
  const notifier = await spawnService<typeof MatchRole>(
    'notifier',
    new URL('./roles/notifierMatch.ts', import.meta.url),
  );
  const old = await spawnService<typeof MatchRole>(
    'old-notifier',
    new URL('./roles/notifierMatch.ts', import.meta.url),
  );
  try {
    await migrateSchema(c.pool, place.schema);
    const runs = makeRuns(RUN_SEQ);
    const plan: AlertPlan = {
      pairs: makePairs(PAIRS),
      runs,
      runSeq: RUN_SEQ,
      alertsPerUser: ALERTS_PER_USER,
      mix: EVERY_KIND,
    };
    await insertRuns(c.pool, place.schema, runs);
    const oracleRuns: Run[] = runs.map((r) => ({ seq: r.seq, asOf: r.asOf, rates: withProviderBase(r.base, r.rates) }));
    await notifier.call('start', place);
    await old.call('start', place);

    const alerts: AlertRecord[] = [];
    const triggers: RecordedTrigger[] = [];
    const results: { size: number; ours: number; old: number; crossed: number }[] = [];
    let memory = { atRestMiB: Infinity, peakMiB: 0 };
    for (const size of sizes) {
      const { alerts: added, triggers: done } = makeAlertsAndTriggers(alerts.length, size, plan);
      const t0 = performance.now();
      await insertAlerts(c.pool, place.schema, added);
      await insertTriggers(c.pool, place.schema, done);
      for (const a of added) alerts.push(a);
      for (const d of done) triggers.push(d);
      progress(
        `notifier-match: ${size} alerts in the read model (+${added.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );

      const measured = await underLoad(notifier, () => notifier.call('match', place, RUN_SEQ, repeats));
      memory = {
        atRestMiB: Math.min(memory.atRestMiB, measured.memory.atRestMiB),
        peakMiB: Math.max(memory.peakMiB, measured.memory.peakMiB),
      };
      const baseline = await old.call('oldMatch', place, RUN_SEQ, repeats);

      const t1 = performance.now();
      const expected = crossedAlerts(oracleRuns, alerts, triggers);
      const equal = isDeepStrictEqual(measured.result.result, expected);
      progress(
        `notifier-match: oracle found ${expected.length} crossed in ${((performance.now() - t1) / 1000).toFixed(1)} s; ours ${equal ? 'equals' : 'DIFFERS FROM'} it; ours ${median(measured.result.ms).toFixed(1)} ms, old ${median(baseline.ms).toFixed(1)} ms (${baseline.result.count} found with floats)`,
      );
      if (!equal)
        ctx.fail(
          `notifier-match at ${size} alerts: findCrossedAlerts returned ${measured.result.result.length} alerts, the oracle ${expected.length}; they differ`,
        );
      results.push({ size, ours: median(measured.result.ms), old: median(baseline.ms), crossed: expected.length });
    }

    const describe = (r: (typeof results)[number]) =>
      `${r.size} alerts of every kind (${Object.entries(EVERY_KIND)
        .map(([k, share]) => `${k} ${share}`)
        .join(
          ', ',
        )}) on ${PAIRS} pairs, one run (${r.crossed} triggered, equal to the pure oracle crossedAlerts); ours: findCrossedAlerts (one set-based query + exact ratios), median of ${repeats} after a warm-up; baseline (old system): select every alert and recorded trigger from the same read model and loop over all of them with the same rules on floats, median of ${repeats}; ratio = baseline time / our time, goal >= 20`;
    const largest = results.at(-1)!;
    ctx.emit(figure('notifier-match', largest.ours, 'ms', largest.old, describe(largest), largest.old / largest.ours));
    for (const r of results)
      ctx.emit(figure(`notifier-match@${r.size}`, r.ours, 'ms', r.old, describe(r), r.old / r.ours));
    const first = results[0]!;
    const steps = results
      .slice(1)
      .map(
        (r, i) =>
          `${results[i]!.size}→${r.size}: time ×${(r.ours / results[i]!.ours).toFixed(2)} for alerts ×${r.size / results[i]!.size}`,
      );
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
