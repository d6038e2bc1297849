import { ratioOf } from '../../events/ratio.ts';
import { tablesIn, type Pool } from '../../platform/postgres.ts';

/** One recorded run: its rates never change once projected, so a process may keep them. */
export type CachedRun = {
  runSeq: number;
  provider: string;
  base: string;
  asOf: string;
  rates: Map<string, string>;
  ratios: Map<string, string>;
};

/**
 * The most recent runs with their rates, kept in memory: each page asks Postgres only which runs are the
 * latest (an index scan of a few rows) and loads the rates of a run it has not seen yet, once.
 */
export class RecentRuns {
  private readonly runs = new Map<number, CachedRun>();

  constructor(private readonly window: number) {}

  /** The latest `window` runs, newest first. */
  async latest(pool: Pool, schema: string): Promise<CachedRun[]> {
    const t = tablesIn(schema);
    const ids = await pool.query<{ run_seq: number; provider: string; base: string; as_of: string }>(
      `SELECT run_seq, provider, base, as_of FROM ${t('rate_runs')} ORDER BY run_seq DESC LIMIT $1`,
      [this.window],
    );
    const missing = ids.rows.filter((r) => !this.runs.has(r.run_seq));
    if (missing.length > 0) {
      const rates = await pool.query<{ run_seq: number; currency: string; rate: string }>(
        `SELECT run_seq, currency, rate::text AS rate FROM ${t('rates')} WHERE run_seq = ANY($1::bigint[])`,
        [missing.map((r) => r.run_seq)],
      );
      for (const r of missing) {
        // The provider's own base is 1 though its response leaves it out (docs/design.md §4).
        this.runs.set(r.run_seq, {
          runSeq: r.run_seq,
          provider: r.provider,
          base: r.base,
          asOf: r.as_of,
          rates: new Map([[r.base, '1']]),
          ratios: new Map(),
        });
      }
      for (const row of rates.rows) this.runs.get(row.run_seq)!.rates.set(row.currency, row.rate);
    }
    const latest = ids.rows.map((r) => this.runs.get(r.run_seq)!);
    // Forget runs that fell out of the window.
    if (this.runs.size > this.window * 2) {
      const keep = new Set(latest.map((r) => r.runSeq));
      for (const seq of this.runs.keys()) if (!keep.has(seq)) this.runs.delete(seq);
    }
    return latest;
  }
}

/** QUOTE per BASE in a run, exact, computed once per run and pair; undefined when the run lacks a currency. */
export function ratioIn(
  run: CachedRun,
  base: string,
  quote: string,
): { ratio: string; rb: string; rq: string } | undefined {
  const rb = run.rates.get(base);
  const rq = run.rates.get(quote);
  if (rb === undefined || rq === undefined) return undefined;
  const key = `${base}/${quote}`;
  let ratio = run.ratios.get(key);
  if (ratio === undefined) {
    ratio = ratioOf(rb, rq);
    run.ratios.set(key, ratio);
  }
  return { ratio, rb, rq };
}
