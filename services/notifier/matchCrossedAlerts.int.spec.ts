import BigDecimal from 'big.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tablesIn, type TableNamer } from '../../platform/postgres.ts';
import { migrate } from '../projector/migrations.ts';
import { openTestWorld, type TestWorld } from '../../test/harness.ts';
import { crossedAlerts, isActiveAt, type AlertRecord, type Run } from './crossing.ts';
import { crossedAlertsSql, findCrossedAlerts } from './matchCrossedAlerts.ts';
import { withProviderBase } from '../../events/ratio.ts';

let world: TestWorld;
let t: TableNamer;

beforeAll(async () => {
  world = await openTestWorld();
  const client = await world.pool.connect();
  try {
    await migrate(client, world.schema);
  } finally {
    client.release();
  }
  t = tablesIn(world.schema);
});
afterAll(async () => world?.close());
beforeEach(async () => {
  await world.pool.query(`TRUNCATE ${t('alerts')}, ${t('rate_runs')}, ${t('rates')}`);
});

/** A run as the projector stores it: the provider's rates, usually without its own base. */
type StoredRun = { seq: number; provider: string; base: string; rates: Record<string, string> };

async function insertRuns(runs: StoredRun[]): Promise<void> {
  for (const run of runs) {
    await world.pool.query(
      `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, '2026-11-02T17:00:00Z')`,
      [run.seq, run.provider, run.base, `day-${run.seq}`],
    );
    const currencies = Object.keys(run.rates);
    await world.pool.query(
      `INSERT INTO ${t('rates')} (run_seq, currency, rate) SELECT $1, c, r::numeric FROM unnest($2::text[], $3::text[]) AS x(c, r)`,
      [run.seq, currencies, currencies.map((c) => run.rates[c])],
    );
  }
}

async function insertAlerts(alerts: AlertRecord[]): Promise<void> {
  await world.pool.query(
    `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at, deleted_seq, deleted_at)
     SELECT id, u, b, q, th::numeric, th, s, '2026-11-01T00:00:00Z', d, CASE WHEN d IS NULL THEN NULL ELSE '2026-11-03T00:00:00Z'::timestamptz END
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[]) AS x(id, u, b, q, th, s, d)`,
    [
      alerts.map((a) => a.alertId),
      alerts.map((a) => a.userId),
      alerts.map((a) => a.base),
      alerts.map((a) => a.quote),
      alerts.map((a) => a.threshold),
      alerts.map((a) => a.setSeq),
      alerts.map((a) => a.deletedSeq),
    ],
  );
}

/** The pure oracle's view of the log up to and including run `runSeq`. */
function oracle(runs: StoredRun[], alerts: AlertRecord[], runSeq: number) {
  const upTo: Run[] = runs
    .filter((r) => r.seq <= runSeq)
    .map((r) => ({ seq: r.seq, rates: withProviderBase(r.base, r.rates) }));
  return crossedAlerts(upTo, alerts);
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
        threshold: '1.08',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.08',
      },
      {
        alertId: 'deleted-after-run',
        userId: 'u1',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.08',
        direction: 'up',
        previousRatio: '1.07',
        currentRatio: '1.08',
      },
      {
        alertId: 'inverse',
        userId: 'u1',
        base: 'USD',
        quote: 'EUR',
        threshold: '0.93',
        direction: 'down',
        previousRatio: '0.9345794392523364486',
        currentRatio: '0.92592592592592592593',
      },
      {
        alertId: 'between-runs',
        userId: 'u2',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.08',
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
        threshold: '1.17',
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

function scenario(seed: number): { runs: StoredRun[]; alerts: AlertRecord[] } {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const runs: StoredRun[] = [];
  const alerts: AlertRecord[] = [];
  let perEur: Record<string, string> = { ...startRates };
  let seq = 0;
  /** 1 ± up to `percent` %, in steps of 0.001 %. */
  const factor = (percent: number) =>
    new BigDecimal(1).plus(new BigDecimal(Math.floor(random() * (2000 * percent + 1)) - 1000 * percent).div(100000));
  const ratioNow = (base: string, quote: string) => {
    const of = (c: string) => new BigDecimal(c === 'EUR' ? '1' : perEur[c]!);
    return of(quote).div(of(base));
  };
  for (let step = 0; step < 400; step++) {
    seq += 1 + Math.floor(random() * 3);
    const action = random();
    if (action < 0.06) {
      // A run: usually a small random walk, sometimes the very same rates, sometimes a USD-based provider.
      if (random() > 0.15) {
        perEur = Object.fromEntries(
          Object.entries(perEur).map(([c, r]) => [c, new BigDecimal(r).times(factor(2)).prec(7).toFixed()]),
        );
        // Sometimes move a quote rate so an active alert's ratio lands exactly on its threshold.
        const active = alerts.filter((a) => isActiveAt(a, seq + 1) && a.quote !== 'EUR');
        if (active.length > 0 && random() < 0.5) {
          const target = pick(active);
          const rb = new BigDecimal(target.base === 'EUR' ? '1' : perEur[target.base]!);
          perEur[target.quote] = new BigDecimal(target.threshold).times(rb).toFixed();
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
          rates: { ...Object.fromEntries(perUsd), EUR: new BigDecimal(1).div(usd).toFixed(), USD: '1' },
        });
      } else {
        runs.push({ seq, provider: 'frankfurter', base: 'EUR', rates: Object.fromEntries(present) });
      }
    } else if (action < 0.85) {
      const base = pick(currencies);
      const quote = pick(currencies.filter((c) => c !== base));
      // Thresholds near the current ratio with 1–18 significant digits, so runs cross some of them.
      const near = ratioNow(base, quote).times(factor(3));
      const threshold = near.prec(1 + Math.floor(random() * 18)).toFixed();
      alerts.push({
        alertId: `a${String(alerts.length).padStart(4, '0')}`,
        userId: `u${Math.floor(random() * 25)}`,
        base,
        quote,
        threshold,
        setSeq: seq,
        deletedSeq: null,
      });
    } else {
      const active = alerts.filter((a) => a.deletedSeq === null);
      if (active.length > 0) pick(active).deletedSeq = seq;
    }
  }
  return { runs, alerts };
}

describe('findCrossedAlerts agrees with the pure oracle on randomised logs', () => {
  it.each([1, 2, 3, 4])('seed %i', async (seed) => {
    const { runs, alerts } = scenario(seed);
    await insertRuns(runs);
    await insertAlerts(alerts);
    let triggers = 0;
    const directions = new Set<string>();
    let landed = 0;
    for (const run of runs) {
      const expected = oracle(runs, alerts, run.seq);
      expect(await findCrossedAlerts(world.pool, t, run.seq), `run ${run.seq}`).toEqual(expected);
      triggers += expected.length;
      for (const e of expected) {
        directions.add(e.direction);
        if (new BigDecimal(e.currentRatio).eq(e.threshold)) landed++;
      }
    }
    // The scenario must actually exercise the rule, or agreeing would prove nothing.
    expect(runs.length).toBeGreaterThan(10);
    expect(triggers).toBeGreaterThan(20);
    expect([...directions].sort()).toEqual(['down', 'up']);
    expect(landed).toBeGreaterThan(0);
  });
});

describe('findCrossedAlerts plan', () => {
  it('range-scans the (base, quote, threshold) index per pair instead of reading every alert', async () => {
    await insertRuns([frankfurter(1, startRates), frankfurter(3, { ...startRates, USD: '1.09' })]);
    // 40,000 alerts on 42 pairs.
    await world.pool.query(
      `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, threshold, threshold_text, set_seq, set_at)
       SELECT 'g' || i, 'u' || (i % 1000), b, q, th, th::text, 2, '2026-11-01T00:00:00Z'
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
