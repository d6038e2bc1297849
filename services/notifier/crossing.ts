import type { z } from 'zod';
import type { Direction as DirectionSchema } from '../../events/index.ts';
import { compareToRatio, ratio, type Rates } from '../../events/ratio.ts';

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

/** One run in log order; its rates include the provider's own base at "1" (see withProviderBase). */
export type Run = { seq: number; rates: Rates };

/** An alert as the read model knows it: set at `setSeq`, deleted at `deletedSeq` (log sequences). */
export type AlertRecord = PairThreshold & {
  alertId: string;
  userId: string;
  setSeq: number;
  deletedSeq: number | null;
};

/** An alert a run triggered, with the pair's ratio before and now. */
export type CrossedAlert = PairThreshold & Crossing & { alertId: string; userId: string };

/** An alert takes part in a run when it was set before it and not deleted before it. */
export function isActiveAt(alert: Pick<AlertRecord, 'setSeq' | 'deletedSeq'>, runSeq: number): boolean {
  return alert.setSeq < runSeq && (alert.deletedSeq === null || alert.deletedSeq > runSeq);
}

/** The most recent run before `runSeq` in which both currencies had rates. `runs` are in log order. */
export function previousRunWithPair(
  runs: readonly Run[],
  runSeq: number,
  base: string,
  quote: string,
): Run | undefined {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i]!;
    if (run.seq < runSeq && hasPair(run.rates, base, quote)) return run;
  }
  return undefined;
}

/** Digest order: by user, then alert (plain code-unit order, as SQL's COLLATE "C"). */
export function byUserThenAlert(
  a: { userId: string; alertId: string },
  b: { userId: string; alertId: string },
): number {
  if (a.userId !== b.userId) return a.userId < b.userId ? -1 : 1;
  if (a.alertId !== b.alertId) return a.alertId < b.alertId ? -1 : 1;
  return 0;
}

/**
 * Every alert the latest of `runs` (in log order) triggered, by user then alert. In memory and obviously
 * correct rather than fast: the oracle the SQL in matchCrossedAlerts.ts is checked against.
 */
export function crossedAlerts(runs: readonly Run[], alerts: readonly AlertRecord[]): CrossedAlert[] {
  const latest = runs.at(-1);
  if (!latest) return [];
  const crossed: CrossedAlert[] = [];
  for (const alert of alerts) {
    if (!isActiveAt(alert, latest.seq)) continue;
    const previous = previousRunWithPair(runs, latest.seq, alert.base, alert.quote);
    const found = crossing(latest.rates, previous?.rates, alert);
    if (found) {
      const { alertId, userId, base, quote, threshold } = alert;
      crossed.push({ alertId, userId, base, quote, threshold, ...found });
    }
  }
  return crossed.sort(byUserThenAlert);
}
