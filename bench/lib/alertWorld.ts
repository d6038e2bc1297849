// Runs, pairs, users and alerts for the benchmarks that match alerts against a run (notifier-match, daily-run), and
// their multi-row inserts straight into a fresh read model, as the projector would have left them.
import { type RatesProvider } from '../../events/index.ts';
import { withProviderBase } from '../../events/ratio.ts';
import type { PersonalData } from '../../platform/personalData/index.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';
import type { AlertRecord, RecordedTrigger } from '../../services/notifier/crossing.ts';
import { ruleColumns } from '../../services/projector/reference/eventStatements.ts';
import { sealedPeople } from './sealing.ts';
import { CURRENCIES, plainDecimal, seeded } from './world.ts';
import { testUserId } from '../../test/personalKeys.ts';

export type StoredRun = {
  seq: number;
  provider: RatesProvider;
  base: string;
  asOf: string;
  rates: Record<string, string>;
};

/**
 * Three runs of a EUR-based provider: run 1 has every currency, run 2 lacks ISK (so ISK pairs compare with run 1),
 * the run under test (`runSeq`) lacks PHP (PHP pairs are skipped) and moves each rate by up to ±0.5 %.
 */
export function makeRuns(runSeq: number): StoredRun[] {
  const random = seeded(11);
  const codes = Object.keys(CURRENCIES).filter((c) => c !== 'EUR');
  const ratesOf = (skip: string, wobble: number) =>
    Object.fromEntries(
      codes
        .filter((c) => c !== skip)
        .map((c) => [c, plainDecimal(CURRENCIES[c]! * (1 + (random() * 2 - 1) * wobble), 6)]),
    );
  const run1 = ratesOf('', 0.002);
  const run2 = ratesOf('ISK', 0.002);
  const current = Object.fromEntries(
    Object.entries({ ...run1, ...run2 })
      .filter(([c]) => c !== 'PHP')
      .map(([c, r]) => [c, plainDecimal(Number(r) * (1 + (random() * 2 - 1) * 0.005), 6)]),
  );
  return [
    { seq: 1, provider: 'frankfurter', base: 'EUR', asOf: '2026-11-01', rates: run1 },
    { seq: 2, provider: 'frankfurter', base: 'EUR', asOf: '2026-11-02', rates: run2 },
    { seq: runSeq, provider: 'frankfurter', base: 'EUR', asOf: '2026-11-03', rates: current },
  ];
}

/** The run after `previous` (a day later), at sequence `seq`: each rate moved by up to ±0.5 %, as the run under test does. */
export function nextRun(previous: StoredRun, seq: number): StoredRun {
  const random = seeded(seq);
  const rates = Object.fromEntries(
    Object.entries(previous.rates).map(([c, r]) => [c, plainDecimal(Number(r) * (1 + (random() * 2 - 1) * 0.005), 6)]),
  );
  const asOf = new Date(Date.parse(`${previous.asOf}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { ...previous, seq, asOf, rates };
}

/** `count` distinct BASE/QUOTE pairs of the 30 currencies. */
export function makePairs(count: number): { base: string; quote: string }[] {
  const random = seeded(12);
  const codes = Object.keys(CURRENCIES);
  const all = codes.flatMap((base) => codes.filter((q) => q !== base).map((quote) => ({ base, quote })));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count);
}

/**
 * The kinds of alert a user can set (docs/design.md §4b), each with its maker below: a threshold either way, every time;
 * one way (up or down); once (half of them done: a trigger recorded since they were armed); expiring (half of them
 * expired by the run's rates date); a change of 0.5–3 % over 1, 2 or 3 runs.
 */
export type AlertKind = 'threshold' | 'oneWay' | 'once' | 'expiring' | 'change';
/** What share of the alerts is of each kind (shares of 1). */
export type AlertMix = Partial<Record<AlertKind, number>>;
export const THRESHOLDS_ONLY: AlertMix = { threshold: 1 };
export const EVERY_KIND: AlertMix = { threshold: 0.4, oneWay: 0.15, once: 0.1, expiring: 0.1, change: 0.25 };

type MakeOne = (
  i: number,
  random: () => number,
) => Omit<AlertRecord, 'alertId' | 'userId' | 'setSeq' | 'deletedSeq'> & { fate: number; done?: boolean };

/** A threshold within ±10 % of the pair's ratio at the previous run (5 significant digits). */
const thresholdAlert = (pairs: { base: string; quote: string }[], runs: StoredRun[]): MakeOne => {
  const previous = withProviderBase(runs[0]!.base, runs[0]!.rates);
  return (_i, random) => {
    const { base, quote } = pairs[Math.floor(random() * pairs.length)]!;
    const ratio = Number(previous[quote]) / Number(previous[base]);
    const fate = random();
    return { base, quote, fate, threshold: plainDecimal(ratio * (0.9 + random() * 0.2), 5) };
  };
};

/** The makers of every kind, on the plan's pairs and runs. */
function makersOf(plan: AlertPlan): Record<AlertKind, MakeOne> {
  const threshold = thresholdAlert(plan.pairs, plan.runs);
  const runDate = plan.runs.at(-1)!.asOf;
  return {
    threshold,
    oneWay: (i, random) => ({ ...threshold(i, random), direction: random() < 0.5 ? 'up' : 'down' }),
    once: (i, random) => ({ ...threshold(i, random), repeat: 'once', done: random() < 0.5 }),
    expiring: (i, random) => ({ ...threshold(i, random), expires: random() < 0.5 ? runDate : '2026-11-02' }),
    change: (_i, random) => {
      const { base, quote } = plan.pairs[Math.floor(random() * plan.pairs.length)]!;
      const fate = random();
      const percent = plainDecimal(0.5 + random() * 2.5, 3);
      return { base, quote, fate, kind: 'change', percent, runs: 1 + Math.floor(random() * 3) };
    },
  };
}

export type AlertPlan = {
  pairs: { base: string; quote: string }[];
  runs: StoredRun[];
  /** The run under test: alerts are set after the earlier runs (sequence 3 on) and mostly before this one. */
  runSeq: number;
  alertsPerUser: number;
  mix: AlertMix;
  /** The user id of user number `n` (ids as the system makes them, or short ones). */
  userId?: (n: number) => string;
};

/** User number `n` as the notifier-match benchmark names them. */
const shortUserId = (n: number) => `u${String(n).padStart(6, '0')}`;

/**
 * Alerts number `from` to `to` - 1 of one deterministic sequence (so each size holds the smaller ones), `alertsPerUser`
 * per user, of the kinds in `mix`; 1 % are set after the run, 1 % deleted before it and 1 % paused before it, so the
 * rule's filters do work. A once alert that is done comes with its trigger (of a run between its setting and this one).
 */
export function makeAlerts(from: number, to: number, plan: AlertPlan): AlertRecord[] {
  return makeAlertsAndTriggers(from, to, plan).alerts;
}

export function makeAlertsAndTriggers(
  from: number,
  to: number,
  plan: AlertPlan,
): { alerts: AlertRecord[]; triggers: RecordedTrigger[] } {
  const random = seeded(1000 + from);
  // The kind is drawn from a stream of its own, so a mix of one kind makes the very alerts it always made.
  const kindRandom = seeded(2000 + from);
  const makers = makersOf(plan);
  const kinds = (Object.entries(plan.mix) as [AlertKind, number][]).filter(([, share]) => share > 0);
  const total = kinds.reduce((sum, [, share]) => sum + share, 0);
  const kindOf = (): AlertKind => {
    if (kinds.length === 1) return kinds[0]![0];
    let pick = kindRandom() * total;
    for (const [kind, share] of kinds) if ((pick -= share) < 0) return kind;
    return kinds.at(-1)![0];
  };
  const userId = plan.userId ?? shortUserId;
  const alerts: AlertRecord[] = [];
  const triggers: RecordedTrigger[] = [];
  for (let i = from; i < to; i++) {
    const { fate, done, ...alert } = makers[kindOf()](i, random);
    const alertId = `a${String(i).padStart(7, '0')}`;
    alerts.push({
      alertId,
      userId: userId(Math.floor(i / plan.alertsPerUser)),
      ...alert,
      setSeq: fate < 0.01 ? plan.runSeq + 1 + i : 3 + i,
      deletedSeq: fate >= 0.01 && fate < 0.02 ? plan.runSeq - 1 : null,
      ...(fate >= 0.02 && fate < 0.03 ? { pausedSeq: plan.runSeq - 1 } : {}),
    });
    if (done) triggers.push({ alertId, runSeq: plan.runSeq - 2 });
  }
  return { alerts, triggers };
}

/** Recorded triggers straight into the read model (alert_triggers), as the projector leaves AlertTriggered. */
export async function insertTriggers(pool: Pool, schema: string, triggers: RecordedTrigger[]): Promise<void> {
  const t = tablesIn(schema);
  for (let i = 0; i < triggers.length; i += 20_000) {
    const chunk = triggers.slice(i, i + 20_000);
    await pool.query(
      `INSERT INTO ${t('alert_triggers')} (alert_id, run_seq, user_id, previous_ratio, current_ratio, direction, triggered_at)
       SELECT a, r, 'u', '1', '1', 'up', '2026-11-02T17:00:00Z' FROM unnest($1::text[], $2::bigint[]) AS x(a, r)`,
      [chunk.map((tr) => tr.alertId), chunk.map((tr) => tr.runSeq)],
    );
  }
  await pool.query(`ANALYZE ${t('alert_triggers')}`);
}

/** Runs straight into the read model (rate_runs and rates). */
export async function insertRuns(pool: Pool, schema: string, runs: StoredRun[]): Promise<void> {
  const t = tablesIn(schema);
  for (const run of runs) {
    await pool.query(
      `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at) VALUES ($1, $2, $3, $4, '2026-11-02T17:00:00Z')`,
      [run.seq, run.provider, run.base, run.asOf],
    );
    const currencies = Object.keys(run.rates);
    await pool.query(
      `INSERT INTO ${t('rates')} (run_seq, currency, rate) SELECT $1, c, r::numeric FROM unnest($2::text[], $3::text[]) AS x(c, r)`,
      [run.seq, currencies, currencies.map((c) => run.rates[c])],
    );
  }
}

/** Multi-row inserts of 20,000 alerts at a time, straight into the read model (as the projector would have left them). */
export async function insertAlerts(pool: Pool, schema: string, alerts: AlertRecord[]): Promise<void> {
  const t = tablesIn(schema);
  for (let i = 0; i < alerts.length; i += 20_000) {
    const chunk = alerts.slice(i, i + 20_000);
    const rules = chunk.map(ruleColumns);
    await pool.query(
      `INSERT INTO ${t('alerts')} (alert_id, user_id, base, quote, kind, threshold, threshold_text, percent, percent_text, runs, direction, repeat,
                                   expires, set_seq, set_at, deleted_seq, deleted_at, active_seq, paused_seq, armed_seq)
       SELECT id, u, b, q, k, th::numeric, th, pc::numeric, pc, rn, dir, rep, ex, s, '2026-11-01T00:00:00Z', d,
              CASE WHEN d IS NULL THEN NULL ELSE '2026-11-03T00:00:00Z'::timestamptz END, s, ps, s
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[],
                   $11::text[], $12::bigint[], $13::bigint[], $14::bigint[]) AS x(id, u, b, q, k, th, pc, rn, dir, rep, ex, s, d, ps)`,
      [
        chunk.map((a) => a.alertId),
        chunk.map((a) => a.userId),
        chunk.map((a) => a.base),
        chunk.map((a) => a.quote),
        rules.map((r) => r.kind),
        rules.map((r) => r.threshold),
        rules.map((r) => r.percent),
        rules.map((r) => r.runs),
        rules.map((r) => r.direction),
        rules.map((r) => r.repeat),
        rules.map((r) => r.expires),
        chunk.map((a) => a.setSeq),
        chunk.map((a) => a.deletedSeq),
        chunk.map((a) => a.pausedSeq ?? null),
      ],
    );
  }
  await pool.query(`ANALYZE ${t('alerts')}`);
}

/** User number `n` as the system would have registered them: username `user<n>`, its id, `user<n>@example.com`. */
export const registeredUserId = (n: number): string => testUserId(`user${n}`);

/**
 * `count` registered users (numbers 0 to count - 1), their usernames and addresses sealed under their own keys as the
 * command service writes them, 20,000 rows at a time, straight into the read model.
 */
export async function insertUsers(pool: Pool, schema: string, count: number, personal: PersonalData): Promise<void> {
  const t = tablesIn(schema);
  for (let from = 0; from < count; from += 20_000) {
    const numbers = Array.from({ length: Math.min(20_000, count - from) }, (_, k) => from + k);
    const ids = numbers.map(registeredUserId);
    const sealed = await sealedPeople(
      personal,
      numbers.map((n, k) => ({ userId: ids[k]!, username: `user${n}`, email: `user${n}@example.com` })),
    );
    await pool.query(
      `INSERT INTO ${t('users')} (user_id, username, email, status, registered_at, updated_seq)
       SELECT id, username, email, 'registered', '2026-11-01T00:00:00Z', 2
       FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, username, email)`,
      [ids, sealed.map((u) => u.username), sealed.map((u) => u.email)],
    );
  }
  await pool.query(`ANALYZE ${t('users')}`);
}
