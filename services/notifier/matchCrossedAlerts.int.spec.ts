import BigDecimal from 'big.js';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tablesIn, type TableNamer } from '../../platform/postgres.ts';
import { migrateSchema } from '../projector/projector.ts';
import { openTestWorld, type TestWorld } from '../../test/harness.ts';
import { ruleColumns } from '../projector/reference/eventStatements.ts';
import { crossedAlerts, isActiveAt, type AlertRecord, type RecordedTrigger, type Run } from './crossing.ts';
import { crossedAlertsSql, findCrossedAlerts } from './matchCrossedAlerts.ts';
import { withProviderBase } from '../../events/ratio.ts';
import type { AlertRuleFields } from '../../events/index.ts';

let world: TestWorld;
let t: TableNamer;

beforeAll(async () => {
  world = await openTestWorld();
  await migrateSchema(world.pool, world.schema);
  t = tablesIn(world.schema);
});
afterAll(async () => world?.close());
beforeEach(async () => {
  await world.pool.query(`TRUNCATE ${t('alerts')}, ${t('rate_runs')}, ${t('rates')}, ${t('alert_triggers')}`);
});

/** A run as the projector stores it: the provider's rates, usually without its own base; its asOf (a date) or day-<seq>. */
type StoredRun = { seq: number; provider: string; base: string; rates: Record<string, string>; asOf?: string };

const asOfOf = (run: StoredRun) => run.asOf ?? `day-${run.seq}`;

async function insertRuns(runs: StoredRun[]): Promise<void> {
  for (const run of runs) {
    await world.pool.query(
      `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, '2026-11-02T17:00:00Z')`,
      [run.seq, run.provider, run.base, asOfOf(run)],
    );
    const currencies = Object.keys(run.rates);
    await world.pool.query(
      `INSERT INTO ${t('rates')} (run_seq, currency, rate) SELECT $1, c, r::numeric FROM unnest($2::text[], $3::text[]) AS x(c, r)`,
      [run.seq, currencies, currencies.map((c) => run.rates[c])],
    );
  }
}

/** Alerts as the projector leaves them (its ruleColumns), defaults and all. */
async function insertAlerts(alerts: AlertRecord[]): Promise<void> {
  const rules = alerts.map(ruleColumns);
  await world.pool.query(
    `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, kind, threshold, threshold_text, percent, percent_text, runs, direction, repeat, expires,
                                 set_seq, set_at, deleted_seq, deleted_at, active_seq, paused_seq, armed_seq)
     SELECT id, u, b, q, k, th::numeric, th, pc::numeric, pc, rn, dir, rep, ex, s, '2026-11-01T00:00:00Z', d,
            CASE WHEN d IS NULL THEN NULL ELSE '2026-11-03T00:00:00Z'::timestamptz END, act, ps, arm
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[],
                 $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
       AS x(id, u, b, q, k, th, pc, rn, dir, rep, ex, s, d, act, ps, arm)`,
    [
      alerts.map((a) => a.alertId),
      alerts.map((a) => a.userId),
      alerts.map((a) => a.base),
      alerts.map((a) => a.quote),
      rules.map((r) => r.kind),
      rules.map((r) => r.threshold),
      rules.map((r) => r.percent),
      rules.map((r) => r.runs),
      rules.map((r) => r.direction),
      rules.map((r) => r.repeat),
      rules.map((r) => r.expires),
      alerts.map((a) => a.setSeq),
      alerts.map((a) => a.deletedSeq),
      alerts.map((a) => a.activeSeq ?? a.setSeq),
      alerts.map((a) => a.pausedSeq ?? null),
      alerts.map((a) => a.armedSeq ?? a.setSeq),
    ],
  );
}

/** Triggers as recorded (AlertTriggered → alert_triggers): what tells a once alert it is done. */
async function insertTriggers(triggers: RecordedTrigger[]): Promise<void> {
  await world.pool.query(
    `INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
     SELECT a, r, 'u', '1', '1', 'up', '2026-11-02T17:00:00Z' FROM unnest($1::text[], $2::bigint[]) AS x(a, r)`,
    [triggers.map((tr) => tr.alertId), triggers.map((tr) => tr.runSeq)],
  );
}

/** The pure oracle's view of the log up to and including run `runSeq`. */
function oracle(runs: StoredRun[], alerts: AlertRecord[], runSeq: number, triggers: RecordedTrigger[] = []) {
  const upTo: Run[] = runs
    .filter((r) => r.seq <= runSeq)
    .map((r) => ({ seq: r.seq, asOf: asOfOf(r), rates: withProviderBase(r.base, r.rates) }));
  return crossedAlerts(upTo, alerts, triggers);
}

const frankfurter = (seq: number, rates: Record<string, string>): StoredRun => ({
  seq,
  provider: 'frankfurter',
  base: 'EUR',
  rates,
});
const alert = (alertId: string, overrides: Partial<AlertRecord> = {}): AlertRecord => ({
  alertId,
  userId: 'u1',
  base: 'EUR',
  quote: 'USD',
  threshold: '1.08',
  setSeq: 1,
  deletedSeq: null,
  ...overrides,
});

describe('findCrossedAlerts on the read model (hand-written cases)', () => {
  it('finds crossings against the provider base, set between runs, deleted after the run, landing on the threshold', async () => {
    const runs = [frankfurter(10, { USD: '1.07', GBP: '0.85' }), frankfurter(20, { USD: '1.08', GBP: '0.86' })];
    const alerts = [
      alert('before-runs', { setSeq: 1 }),
      alert('between-runs', { setSeq: 15, userId: 'u2' }),
      alert('set-after-run', { setSeq: 21 }),
      alert('deleted-before-run', { deletedSeq: 18 }),
      alert('deleted-after-run', { deletedSeq: 22 }),
      alert('not-reached', { threshold: '1.0801' }),
      alert('inverse', { base: 'USD', quote: 'EUR', threshold: '0.93' }),
      alert('other-pair-not-crossed', { base: 'GBP', quote: 'USD', threshold: '1.3' }),
    ];
    await insertRuns(runs);
    await insertAlerts(alerts);
    const found = await findCrossedAlerts(world.pool, t, 20);
    expect(found).toEqual([
      {
        alertId: 'before-runs',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
        kind: 'threshold',
        threshold: '1.08',
        alertDirection: 'either',
        repeat: 'every',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.08',
      },
      {
        alertId: 'deleted-after-run',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
        kind: 'threshold',
        threshold: '1.08',
        alertDirection: 'either',
        repeat: 'every',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.08',
      },
      {
        alertId: 'inverse',
        userId: 'u1',
        base: 'USD',
        quote: 'EUR',
        kind: 'threshold',
        threshold: '0.93',
        alertDirection: 'either',
        repeat: 'every',
        direction: 'down',
        previousRatio: '0.9345794392523364486',
        currentRatio: '0.92592592592592592593',
      },
      {
        alertId: 'between-runs',
        userId: 'u2',
        base: 'EUR',
        quote: 'USD',
        kind: 'threshold',
        threshold: '1.08',
        alertDirection: 'either',
        repeat: 'every',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.08',
      },
    ]);
    expect(found).toEqual(oracle(runs, alerts, 20));
    expect(await findCrossedAlerts(world.pool, t, 10)).toEqual([]);
  });

  it('skips a run missing a currency and compares the next run with the last one that had both', async () => {
    const runs = [
      frankfurter(1, { USD: '1.07', GBP: '0.85' }),
      frankfurter(3, { GBP: '0.86' }),
      frankfurter(5, { USD: '1.09', GBP: '0.86' }),
    ];
    const alerts = [alert('a', { setSeq: 2 }), alert('g', { base: 'GBP', quote: 'EUR', threshold: '1.17' })];
    await insertRuns(runs);
    await insertAlerts(alerts);
    expect(await findCrossedAlerts(world.pool, t, 3)).toEqual([
      {
        alertId: 'g',
        userId: 'u1',
        base: 'GBP',
        quote: 'EUR',
        kind: 'threshold',
        threshold: '1.17',
        alertDirection: 'either',
        repeat: 'every',
        direction: 'down',
        previousRatio: '1.1764705882352941176',
        currentRatio: '1.1627906976744186047',
      },
    ]);
    expect(await findCrossedAlerts(world.pool, t, 5)).toMatchObject([
      { alertId: 'a', previousRatio: '1.07', currentRatio: '1.09', direction: 'up' },
    ]);
  });

  it('compares a EUR-based run with a following USD-based run that lists USD at 1', async () => {
    const runs = [
      frankfurter(1, { USD: '1.07' }),
      { seq: 2, provider: 'open-er-api', base: 'USD', rates: { USD: '1', EUR: '0.92' } },
    ];
    await insertRuns(runs);
    await insertAlerts([alert('a')]);
    expect(await findCrossedAlerts(world.pool, t, 2)).toMatchObject([
      { alertId: 'a', direction: 'up', previousRatio: '1.07', currentRatio: '1.0869565217391304348' },
    ]);
  });

  it('triggers nothing on a run with unchanged rates, on the first run, or on an unknown run', async () => {
    await insertRuns([
      frankfurter(1, { USD: '1.07' }),
      frankfurter(2, { USD: '1.08' }),
      frankfurter(3, { USD: '1.080' }),
    ]);
    await insertAlerts([alert('a', { setSeq: 0 })]);
    expect(await findCrossedAlerts(world.pool, t, 1)).toEqual([]);
    expect(await findCrossedAlerts(world.pool, t, 2)).toHaveLength(1);
    expect(await findCrossedAlerts(world.pool, t, 3)).toEqual([]);
    expect(await findCrossedAlerts(world.pool, t, 4)).toEqual([]);
  });

  it('compares 18-significant-digit thresholds exactly, and widens the rounded division bounds enough', async () => {
    const runs = [
      frankfurter(1, { USD: '1.07', BTC: '0.0000161', JPY: '162.35', CHF: '100', SEK: '107' }),
      frankfurter(2, {
        USD: '1.08',
        BTC: '0.0000161',
        JPY: '162.35000000000000107',
        CHF: '100',
        SEK: '108.000000000000001',
      }),
    ];
    const alerts = [
      alert('just-above', { threshold: '1.08000000000000001' }),
      alert('just-below', { threshold: '1.07999999999999999' }),
      alert('btc-exact', { base: 'BTC', quote: 'JPY', threshold: '10083850.9316770187' }),
      alert('btc-one-above', { base: 'BTC', quote: 'JPY', threshold: '10083850.9316770188' }),
      alert('btc-at-previous', { base: 'BTC', quote: 'JPY', threshold: '10083850.9316770186' }),
      // Postgres divides 108.000000000000001 / 100 to 1.0800000000000000, just below this threshold.
      alert('beyond-rounded-division', { base: 'CHF', quote: 'SEK', threshold: '1.08000000000000001' }),
    ];
    await insertRuns(runs);
    await insertAlerts(alerts);
    const found = await findCrossedAlerts(world.pool, t, 2);
    expect(found.map((f) => f.alertId)).toEqual(['beyond-rounded-division', 'btc-exact', 'just-below']);
    expect(found).toEqual(oracle(runs, alerts, 2));
  });
});

// ---- randomised scenarios: the SQL must agree with the pure oracle on every run ----

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const startRates: Record<string, string> = {
  USD: '1.08',
  GBP: '0.85',
  JPY: '162.35',
  CHF: '0.95',
  BTC: '0.0000161',
  SEK: '11.2',
};
const currencies = ['EUR', ...Object.keys(startRates)];

type Scenario = { runs: StoredRun[]; alerts: AlertRecord[] };

/**
 * A random log, as the read model ends up holding it: runs (a random walk of rates, some the very same, some of a
 * USD-based provider, each a day later) between alerts of every kind set, edited, paused, resumed, re-armed and deleted.
 */
function scenario(seed: number): Scenario {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const runs: StoredRun[] = [];
  const alerts: AlertRecord[] = [];
  let perEur: Record<string, string> = { ...startRates };
  let seq = 0;
  let day = Date.UTC(2026, 10, 2);
  const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  /** 1 ± up to `percent` %, in steps of 0.001 %. */
  const factor = (percent: number) =>
    new BigDecimal(1).plus(new BigDecimal(Math.floor(random() * (2000 * percent + 1)) - 1000 * percent).div(100000));
  const ratioNow = (base: string, quote: string) => {
    const of = (c: string) => new BigDecimal(c === 'EUR' ? '1' : perEur[c]!);
    return of(quote).div(of(base));
  };
  /** A rule for an alert on this pair: a threshold near the ratio (1–18 significant digits) or a change of 0.1–3 %. */
  const ruleFor = (base: string, quote: string): AlertRuleFields => {
    const common: AlertRuleFields = {
      direction: pick(['either', 'either', 'up', 'down'] as const),
      repeat: pick(['every', 'every', 'once'] as const),
      ...(random() < 0.3 ? { expires: dateOf(day + Math.floor(random() * 20 - 4) * 86_400_000) } : {}),
    };
    if (random() < 0.65)
      return {
        kind: 'threshold',
        threshold: ratioNow(base, quote)
          .times(factor(3))
          .prec(1 + Math.floor(random() * 18))
          .toFixed(),
        ...common,
      };
    const percent = new BigDecimal(Math.floor(random() * 3000) + 100).div(1000).prec(1 + Math.floor(random() * 3));
    return { kind: 'change', percent: percent.toFixed(), runs: pick([1, 1, 2, 3, 5, 30]), ...common };
  };
  const live = () => alerts.filter((a) => a.deletedSeq === null);
  for (let step = 0; step < 400; step++) {
    seq += 1 + Math.floor(random() * 3);
    const action = random();
    if (action < 0.08) {
      // A run: usually a small random walk, sometimes the very same rates, sometimes a USD-based provider.
      day += 86_400_000;
      if (random() > 0.15) {
        perEur = Object.fromEntries(
          Object.entries(perEur).map(([c, r]) => [c, new BigDecimal(r).times(factor(2)).prec(7).toFixed()]),
        );
        // Sometimes move a quote rate so an active threshold alert's ratio lands exactly on its threshold.
        const active = alerts.filter((a) => isActiveAt(a, seq + 1) && a.quote !== 'EUR' && a.threshold);
        if (active.length > 0 && random() < 0.5) {
          const target = pick(active);
          const rb = new BigDecimal(target.base === 'EUR' ? '1' : perEur[target.base]!);
          perEur[target.quote] = new BigDecimal(target.threshold!).times(rb).toFixed();
        }
      }
      const present = Object.entries(perEur).filter(() => random() > 0.15);
      if (random() < 0.25) {
        const usd = new BigDecimal(perEur.USD!);
        const perUsd = present.map(([c, r]) => [c, new BigDecimal(r).div(usd).toFixed()]);
        runs.push({
          seq,
          provider: 'open-er-api',
          base: 'USD',
          asOf: `${dateOf(day)}T000231Z`,
          rates: { ...Object.fromEntries(perUsd), EUR: new BigDecimal(1).div(usd).toFixed(), USD: '1' },
        });
      } else {
        runs.push({ seq, provider: 'frankfurter', base: 'EUR', asOf: dateOf(day), rates: Object.fromEntries(present) });
      }
    } else if (action < 0.7) {
      const base = pick(currencies);
      const quote = pick(currencies.filter((c) => c !== base));
      alerts.push({
        alertId: `a${String(alerts.length).padStart(4, '0')}`,
        userId: `u${Math.floor(random() * 25)}`,
        base,
        quote,
        ...ruleFor(base, quote),
        setSeq: seq,
        deletedSeq: null,
      });
    } else if (live().length > 0) {
      const alert = pick(live());
      if (action < 0.78) alert.deletedSeq = seq;
      else if (action < 0.86) {
        // An edit: a rule of its own (the old one's fields go), active and armed from here.
        for (const key of ['kind', 'threshold', 'percent', 'runs', 'direction', 'repeat', 'expires'] as const)
          delete alert[key];
        Object.assign(alert, ruleFor(alert.base, alert.quote), { activeSeq: seq, armedSeq: seq });
      } else if (action < 0.93) {
        if (alert.pausedSeq == null) alert.pausedSeq = seq;
        else Object.assign(alert, { pausedSeq: null, activeSeq: seq });
      } else alert.armedSeq = seq;
    }
  }
  return { runs, alerts };
}

/** What the scenarios exercised, over all of them: agreeing on rules that never came into play would prove nothing. */
const exercised = { runs: 0, triggers: 0, landed: 0, directions: new Set<string>(), kinds: new Set<string>() };
const held = { done: 0, expired: 0, paused: 0, direction: 0 };

/** Alerts the oracle would have triggered at run `runSeq` but for one rule: counts what each rule held back. */
function countHeldBack(s: Scenario, runSeq: number, triggers: RecordedTrigger[], found: number) {
  const without = (change: (a: AlertRecord) => AlertRecord) =>
    oracle(s.runs, s.alerts.map(change), runSeq, triggers).length - found;
  held.done += without((a) => ({ ...a, repeat: 'every' }));
  held.expired += without(({ expires: _, ...a }) => a);
  held.paused += without((a) => ({ ...a, pausedSeq: null }));
  held.direction += without((a) => ({ ...a, direction: 'either' }));
}

describe('findCrossedAlerts agrees with the pure oracle on randomised logs of every kind of alert', () => {
  it('on every run of each log, with the triggers recorded run after run as the notifier records them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
        await world.pool.query(`TRUNCATE ${t('alerts')}, ${t('rate_runs')}, ${t('rates')}, ${t('alert_triggers')}`);
        const s = scenario(seed);
        await insertRuns(s.runs);
        await insertAlerts(s.alerts);
        const triggers: RecordedTrigger[] = [];
        for (const run of s.runs) {
          const expected = oracle(s.runs, s.alerts, run.seq, triggers);
          expect(await findCrossedAlerts(world.pool, t, run.seq), `seed ${seed}, run ${run.seq}`).toEqual(expected);
          countHeldBack(s, run.seq, triggers, expected.length);
          exercised.runs++;
          exercised.triggers += expected.length;
          for (const e of expected) {
            exercised.directions.add(e.direction);
            exercised.kinds.add(`${e.kind} ${e.alertDirection} ${e.repeat}`);
            if (e.threshold && new BigDecimal(e.currentRatio).eq(e.threshold)) exercised.landed++;
          }
          const now = expected.map((e) => ({ alertId: e.alertId, runSeq: run.seq }));
          await insertTriggers(now);
          triggers.push(...now);
        }
      }),
      { numRuns: 8 },
    );
    expect(exercised.runs).toBeGreaterThan(100);
    expect(exercised.triggers).toBeGreaterThan(200);
    expect([...exercised.directions].sort()).toEqual(['down', 'up']);
    expect(exercised.landed).toBeGreaterThan(0);
    // Both kinds in every direction, every time and once, triggered somewhere.
    expect(exercised.kinds.size).toBe(12);
    for (const [rule, count] of Object.entries(held)) expect(count, `alerts held back by ${rule}`).toBeGreaterThan(0);
  }, 300_000);
});

describe('findCrossedAlerts plan', () => {
  it('range-scans the (base, quote, threshold) index per pair instead of reading every alert', async () => {
    await insertRuns([frankfurter(1, startRates), frankfurter(3, { ...startRates, USD: '1.09' })]);
    // 40,000 alerts on 42 pairs.
    await world.pool.query(
      `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, active_seq, armed_seq)
       SELECT 'g' || i, 'u' || (i % 1000), b, q, th, th::text, 2, '2026-11-01T00:00:00Z', 2, 2
       FROM generate_series(1, 40000) i,
            LATERAL (SELECT (ARRAY['EUR','USD','GBP','JPY','CHF','BTC','SEK'])[1 + i % 7] AS b,
                            (ARRAY['EUR','USD','GBP','JPY','CHF','BTC','SEK'])[1 + (i / 7 + i % 7 + 1) % 7] AS q) p,
            LATERAL (SELECT round(0.5 + (i % 997) / 500.0, 6) AS th) x
       WHERE b <> q`,
    );
    await world.pool.query(`ANALYZE ${t('alerts')}`);
    const client = await world.pool.connect();
    try {
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(
        `EXPLAIN (FORMAT JSON) ${crossedAlertsSql(t)}`,
        [3],
      );
      const nodes: Record<string, unknown>[] = [];
      const walk = (node: Record<string, unknown>) => {
        nodes.push(node);
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((rows[0]!['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan);
      const onAlerts = nodes.filter((n) => n['Relation Name'] === 'alerts');
      expect(onAlerts.length).toBeGreaterThan(0);
      expect(onAlerts.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      // An index scan or a bitmap heap scan, as long as the threshold range is an index condition.
      const rangeScans = onAlerts.filter((n) =>
        /threshold >= .*threshold <= /.test(String(n['Index Cond'] ?? n['Recheck Cond'] ?? '')),
      );
      expect(rangeScans).toHaveLength(1);
    } finally {
      client.release();
    }
    const found = await findCrossedAlerts(world.pool, t, 3);
    expect(found.length).toBeGreaterThan(10);
    expect(found.every((f) => f.base === 'USD' || f.quote === 'USD')).toBe(true);
    const { rows } = await world.pool.query<{
      alertId: string;
      userId: string;
      base: string;
      quote: string;
      threshold: string;
      setSeq: number;
    }>(
      `SELECT alert_id AS "alertId", user_id AS "userId", base, quote, threshold_text AS threshold, set_seq AS "setSeq" FROM ${t('alerts')}`,
    );
    const runs = [frankfurter(1, startRates), frankfurter(3, { ...startRates, USD: '1.09' })];
    expect(found).toEqual(
      oracle(
        runs,
        rows.map((r) => ({ ...r, deletedSeq: null })),
        3,
      ),
    );
  });
});
