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

type OldAlertRow = {
  alert_id: string;
  user_id: string;
  base: string;
  quote: string;
  kind: string;
  threshold: string | null;
  percent: string | null;
  runs: number | null;
  direction: string;
  repeat: string;
  expires: string | null;
  set_seq: number;
  deleted_seq: number | null;
  active_seq: number;
  paused_seq: number | null;
  armed_seq: number;
};

/**
 * The old system, each run: select every alert and every recorded trigger from the read model, then loop over all
 * the alerts with the same rules (docs/design.md §4, §4b) on binary floats (ratios as floats, from the same rates): set
 * and active before the run, not paused or deleted before it, not expired, not done; p from the most recent earlier
 * run (a change alert: `runs` runs back) that has both currencies.
 */
export async function oldMatch(place: Place, runSeq: number, repeats: number): Promise<Timed<{ count: number }>> {
  const t = tablesIn(place.schema);
  const pool = connected!.pool;
  const once = async (): Promise<Found[]> => {
    const runs = await pool.query<{ run_seq: number; base: string; as_of: string }>(
      `SELECT run_seq, base, as_of FROM ${t('rate_runs')} WHERE run_seq <= $1 ORDER BY run_seq`,
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
    const runDate = runs.rows.find((r) => r.run_seq === runSeq)!.as_of.slice(0, 10);
    const earlier = runs.rows.filter((r) => r.run_seq < runSeq).reverse();
    const ratios = new Map<string, { p: number; c: number } | null>();
    const ratiosOf = (base: string, quote: string, back: number) => {
      const key = `${base}/${quote}/${back}`;
      let found = ratios.get(key);
      if (found === undefined) {
        const previous = earlier
          .map((r) => rates.get(r.run_seq)!)
          .filter((m) => m.has(base) && m.has(quote))
          .at(back - 1);
        found =
          previous && current.has(base) && current.has(quote)
            ? { p: previous.get(quote)! / previous.get(base)!, c: current.get(quote)! / current.get(base)! }
            : null;
        ratios.set(key, found);
      }
      return found;
    };
    const alerts = await pool.query<OldAlertRow>(
      `SELECT alert_id, user_id, base, quote, kind, threshold, percent, runs, direction, repeat, expires,
              set_seq, deleted_seq, active_seq, paused_seq, armed_seq FROM ${t('alerts')}`,
    );
    const triggers = await pool.query<{ alert_id: string; run_seq: number }>(
      `SELECT alert_id, run_seq FROM ${t('alert_triggers')}`,
    );
    const triggered = new Map<string, number[]>();
    for (const tr of triggers.rows)
      triggered.set(tr.alert_id, [...(triggered.get(tr.alert_id) ?? []), Number(tr.run_seq)]);
    const crossed: Found[] = [];
    for (const a of alerts.rows) {
      if (a.set_seq >= runSeq || a.active_seq >= runSeq) continue;
      if ((a.deleted_seq !== null && a.deleted_seq <= runSeq) || (a.paused_seq !== null && a.paused_seq <= runSeq))
        continue;
      if (a.expires !== null && runDate > a.expires) continue;
      if (a.repeat === 'once' && (triggered.get(a.alert_id) ?? []).some((s) => s > a.armed_seq && s !== runSeq))
        continue;
      const r = ratiosOf(a.base, a.quote, a.kind === 'change' ? a.runs! : 1);
      if (!r) continue;
      let moved: 'up' | 'down' | null = null;
      if (a.kind === 'change') {
        if (Math.abs(r.c - r.p) * 100 >= Number(a.percent) * r.p && r.c !== r.p) moved = r.c > r.p ? 'up' : 'down';
      } else {
        const threshold = Number(a.threshold);
        if (r.p < threshold && threshold <= r.c) moved = 'up';
        else if (r.p > threshold && threshold >= r.c) moved = 'down';
      }
      if (moved && (a.direction === 'either' || a.direction === moved))
        crossed.push({ alertId: a.alert_id, userId: a.user_id, direction: moved });
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
