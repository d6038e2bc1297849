// notifier-match, both sides, each in its own process: the notifier's set-based query, and what the old system did.
import { tablesIn } from '../../platform/postgres.ts';
import type { CrossedAlert } from '../../services/notifier/crossing.ts';
import { findCrossedAlerts } from '../../services/notifier/matchCrossedAlerts.ts';
import { connect, type Connected, type Place } from '../lib/world.ts';

let connected: Connected | undefined;

export async function start(place: Place): Promise<void> {
  connected = await connect(place, 'bench-notifier-match');
}

export type Timed<T> = { ms: number[]; result: T };

/** The notifier's way: findCrossedAlerts for one run, once to warm up, then `repeats` timed runs. */
export async function match(place: Place, runSeq: number, repeats: number): Promise<Timed<CrossedAlert[]>> {
  const t = tablesIn(place.schema);
  let result = await findCrossedAlerts(connected!.pool, t, runSeq);
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    result = await findCrossedAlerts(connected!.pool, t, runSeq);
    ms.push(performance.now() - started);
  }
  return { ms, result };
}

type Found = { alertId: string; userId: string; direction: 'up' | 'down' };

/**
 * The old system, each run: select every alert from the read model, then loop over all of them comparing floats
 * (ratios as binary floating point, from the same rates), with the same rule otherwise: set before the run, not
 * deleted before it, p from the most recent earlier run that has both currencies.
 */
export async function oldMatch(place: Place, runSeq: number, repeats: number): Promise<Timed<{ count: number }>> {
  const t = tablesIn(place.schema);
  const pool = connected!.pool;
  const once = async (): Promise<Found[]> => {
    const runs = await pool.query<{ run_seq: number; base: string }>(
      `SELECT run_seq, base FROM ${t('rate_runs')} WHERE run_seq <= $1 ORDER BY run_seq`,
      [runSeq],
    );
    const rateRows = await pool.query<{ run_seq: number; currency: string; rate: string }>(
      `SELECT run_seq, currency, rate FROM ${t('rates')} WHERE run_seq <= $1`,
      [runSeq],
    );
    const rates = new Map<number, Map<string, number>>(runs.rows.map((r) => [r.run_seq, new Map([[r.base, 1]])]));
    for (const r of rateRows.rows) rates.get(r.run_seq)?.set(r.currency, Number(r.rate));
    const current = rates.get(runSeq);
    if (!current) return [];
    const earlier = runs.rows.filter((r) => r.run_seq < runSeq).reverse();
    const ratios = new Map<string, { p: number; c: number } | null>();
    const ratiosOf = (base: string, quote: string) => {
      const key = `${base}/${quote}`;
      let found = ratios.get(key);
      if (found === undefined) {
        const previous = earlier.map((r) => rates.get(r.run_seq)!).find((m) => m.has(base) && m.has(quote));
        found =
          previous && current.has(base) && current.has(quote)
            ? { p: previous.get(quote)! / previous.get(base)!, c: current.get(quote)! / current.get(base)! }
            : null;
        ratios.set(key, found);
      }
      return found;
    };
    const alerts = await pool.query<{
      alert_id: string;
      user_id: string;
      base: string;
      quote: string;
      threshold: string;
      set_seq: number;
      deleted_seq: number | null;
    }>(`SELECT alert_id, user_id, base, quote, threshold, set_seq, deleted_seq FROM ${t('alerts')}`);
    const crossed: Found[] = [];
    for (const a of alerts.rows) {
      if (a.set_seq >= runSeq || (a.deleted_seq !== null && a.deleted_seq <= runSeq)) continue;
      const r = ratiosOf(a.base, a.quote);
      if (!r) continue;
      const threshold = Number(a.threshold);
      if (r.p < threshold && threshold <= r.c)
        crossed.push({ alertId: a.alert_id, userId: a.user_id, direction: 'up' });
      else if (r.p > threshold && threshold >= r.c)
        crossed.push({ alertId: a.alert_id, userId: a.user_id, direction: 'down' });
    }
    return crossed;
  };
  let result = await once();
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    result = await once();
    ms.push(performance.now() - started);
  }
  return { ms, result: { count: result.length } };
}

export async function stop(): Promise<void> {
  await connected?.close();
}
