import type { Figure } from './report.ts';

/** What every benchmark gets from the runner. */
export type BenchContext = {
  natsUrl: string;
  databaseUrl: string;
  /** Smaller sizes for the smoke test in `npm test`. */
  quick: boolean;
  /** Print a figure as soon as it is known. */
  emit: (figure: Figure) => void;
  /** A correctness check that failed: the run exits 1 at the end. */
  fail: (message: string) => void;
};

export type Benchmark = { name: string; run: (ctx: BenchContext) => Promise<void> };

/** A signing secret for the benchmark's services (never a real one). */
export const BENCH_SECRET = 'a benchmark secret that is certainly long enough';
