import type { z } from 'zod';
import {
  alertRule,
  ratesDateOf,
  type AlertRule,
  type AlertRuleFields,
  type Direction as DirectionSchema,
} from '../../events/index.ts';
import { changedByAtLeast, compareToRatio, ratio, type Rates } from '../../events/ratio.ts';

export type Direction = z.infer<typeof DirectionSchema>;

/** How a run moved an alert's pair across its threshold. Ratios are QUOTE per 1 BASE (see ratio.ts). */
export type Crossing = { direction: Direction; previousRatio: string; currentRatio: string };

export type PairThreshold = { base: string; quote: string; threshold: string };

export function hasPair(rates: Rates, base: string, quote: string): boolean {
  return rates[base] !== undefined && rates[quote] !== undefined;
}

/**
 * The crossing rule (docs/design.md §4): with p the ratio at `previous` (the most recent earlier run that had both
 * currencies) and c the ratio at `current`, an alert triggers when p < t ≤ c (up) or p > t ≥ c (down).
 * Compared exactly: t ≤ rq/rb is t·rb ≤ rq. No earlier run, or a currency missing: null.
 */
export function crossing(current: Rates, previous: Rates | undefined, alert: PairThreshold): Crossing | null {
  const { base, quote, threshold } = alert;
  if (!previous || !hasPair(current, base, quote) || !hasPair(previous, base, quote)) return null;
  const tVsPrevious = compareToRatio(threshold, previous[base]!, previous[quote]!);
  const tVsCurrent = compareToRatio(threshold, current[base]!, current[quote]!);
  const direction: Direction | null =
    tVsPrevious > 0 && tVsCurrent <= 0 ? 'up' : tVsPrevious < 0 && tVsCurrent >= 0 ? 'down' : null;
  if (!direction) return null;
  return { direction, previousRatio: ratio(previous, base, quote), currentRatio: ratio(current, base, quote) };
}

/**
 * The change rule (docs/design.md §4b): with p the ratio at `earlier` (`runs` runs back) and c the ratio now, the
 * pair moved by at least `percent` %: |c − p|·100 ≥ percent·p, up when c > p, down when c < p. Exact (ratio.ts).
 */
export function change(
  current: Rates,
  earlier: Rates | undefined,
  alert: { base: string; quote: string; percent: string },
): Crossing | null {
  const { base, quote, percent } = alert;
  if (!earlier || !hasPair(current, base, quote) || !hasPair(earlier, base, quote)) return null;
  const direction = changedByAtLeast(
    percent,
    { baseRate: earlier[base]!, quoteRate: earlier[quote]! },
    { baseRate: current[base]!, quoteRate: current[quote]! },
  );
  if (!direction) return null;
  return { direction, previousRatio: ratio(earlier, base, quote), currentRatio: ratio(current, base, quote) };
}

/** One run in log order; its rates include the provider's own base at "1" (see withProviderBase). */
export type Run = { seq: number; rates: Rates; asOf?: string };

/**
 * An alert as the read model knows it (log sequences): set at `setSeq`, deleted at `deletedSeq`; its rule (absent
 * fields: a threshold, either way, every time); active since `activeSeq` (its latest set, edit or resumption; default
 * `setSeq`), paused at `pausedSeq` if it is paused now, armed since `armedSeq` (its latest set, edit or re-arm).
 */
export type AlertRecord = AlertRuleFields & {
  alertId: string;
  userId: string;
  base: string;
  quote: string;
  setSeq: number;
  deletedSeq: number | null;
  activeSeq?: number;
  pausedSeq?: number | null;
  armedSeq?: number;
};

/** A trigger recorded for an alert: of a once alert, one after it was armed makes it done. */
export type RecordedTrigger = { alertId: string; runSeq: number };

/** An alert a run triggered: its rule (threshold, or percent and runs), which way the ratio went, the ratio before and now. */
export type CrossedAlert = Crossing & {
  alertId: string;
  userId: string;
  base: string;
  quote: string;
  kind: AlertRule['kind'];
  threshold?: string;
  percent?: string;
  runs?: number;
  alertDirection: AlertRule['direction'];
  repeat: AlertRule['repeat'];
};

/**
 * An alert takes part in a run when the run came after the alert was set and after its latest edit or resumption
 * (an alert changed since a run sits that run out), and before any pause or deletion of it (docs/design.md §4b).
 */
export function isActiveAt(
  alert: Pick<AlertRecord, 'setSeq' | 'deletedSeq' | 'activeSeq' | 'pausedSeq'>,
  runSeq: number,
): boolean {
  const pausedSeq = alert.pausedSeq ?? null;
  return (
    alert.setSeq < runSeq &&
    (alert.activeSeq ?? alert.setSeq) < runSeq &&
    (pausedSeq === null || pausedSeq > runSeq) &&
    (alert.deletedSeq === null || alert.deletedSeq > runSeq)
  );
}

/** The `back`-th most recent run before `runSeq` in which both currencies had rates (1: the previous one). In log order. */
export function earlierRunWithPair(
  runs: readonly Run[],
  runSeq: number,
  base: string,
  quote: string,
  back = 1,
): Run | undefined {
  let found = 0;
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i]!;
    if (run.seq < runSeq && hasPair(run.rates, base, quote) && ++found === back) return run;
  }
  return undefined;
}

/** The most recent run before `runSeq` in which both currencies had rates. `runs` are in log order. */
export const previousRunWithPair = (runs: readonly Run[], runSeq: number, base: string, quote: string) =>
  earlierRunWithPair(runs, runSeq, base, quote, 1);

/** Digest order: by user, then alert (plain code-unit order, as SQL's COLLATE "C"). */
export function byUserThenAlert(
  a: { userId: string; alertId: string },
  b: { userId: string; alertId: string },
): number {
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.alertId !== b.alertId) return a.alertId < b.alertId ? -1 : 1;
  return 0;
}

/** The runs each alert's recorded triggers are of, by alert id. */
export type TriggersByAlert = ReadonlyMap<string, readonly number[]>;

export function triggersByAlert(triggers: readonly RecordedTrigger[]): TriggersByAlert {
  const byAlert = new Map<string, number[]>();
  for (const t of triggers) byAlert.set(t.alertId, [...(byAlert.get(t.alertId) ?? []), t.runSeq]);
  return byAlert;
}

/** A once alert is done once a trigger of a run other than this one was recorded since it was armed. */
function isDone(alert: AlertRecord, rule: AlertRule, runSeq: number, triggers: TriggersByAlert): boolean {
  const armedSeq = alert.armedSeq ?? alert.setSeq;
  return rule.repeat === 'once' && (triggers.get(alert.alertId) ?? []).some((seq) => seq > armedSeq && seq !== runSeq);
}

/** What `latest` does to one alert, by its rule, or null (docs/design.md §4, §4b). */
export function triggerOf(
  runs: readonly Run[],
  latest: Run,
  alert: AlertRecord,
  triggers: TriggersByAlert = new Map(),
): CrossedAlert | null {
  if (!isActiveAt(alert, latest.seq)) return null;
  const rule = alertRule(alert);
  if (rule.expires !== undefined) {
    // A run with no rates date cannot be shown to be on or before the expiry date: it does not trigger the alert.
    const ratesDate = latest.asOf === undefined ? undefined : ratesDateOf(latest.asOf);
    if (ratesDate === undefined || ratesDate > rule.expires) return null;
  }
  if (isDone(alert, rule, latest.seq, triggers)) return null;
  const { alertId, userId, base, quote } = alert;
  const back = rule.kind === 'change' ? rule.runs : 1;
  const earlier = earlierRunWithPair(runs, latest.seq, base, quote, back)?.rates;
  const move =
    rule.kind === 'threshold'
      ? crossing(latest.rates, earlier, { base, quote, threshold: rule.threshold })
      : change(latest.rates, earlier, { base, quote, percent: rule.percent });
  if (!move || (rule.direction !== 'either' && rule.direction !== move.direction)) return null;
  const what = rule.kind === 'threshold' ? { threshold: rule.threshold } : { percent: rule.percent, runs: rule.runs };
  return {
    alertId,
    userId,
    base,
    quote,
    kind: rule.kind,
    ...what,
    alertDirection: rule.direction,
    repeat: rule.repeat,
    ...move,
  };
}

/**
 * Every alert the latest of `runs` (in log order) triggered, by user then alert, given the triggers recorded so far.
 * In memory and obviously correct rather than fast: the oracle the SQL in matchCrossedAlerts.ts is checked against.
 */
export function crossedAlerts(
  runs: readonly Run[],
  alerts: readonly AlertRecord[],
  triggers: readonly RecordedTrigger[] = [],
): CrossedAlert[] {
  const latest = runs.at(-1);
  if (!latest) return [];
  const crossed: CrossedAlert[] = [];
  const recorded = triggersByAlert(triggers);
  for (const alert of alerts) {
    const found = triggerOf(runs, latest, alert, recorded);
    if (found) crossed.push(found);
  }
  return crossed.sort(byUserThenAlert);
}
