/** One printed figure: what we measured, what the same machine did on the baseline in the same run, and their ratio. */
export type Figure = { bench: string; value: number; unit: string; baseline: number; ratio: number; note: string };

const round = (n: number) => (Number.isFinite(n) ? Number(n.toPrecision(4)) : n);

export function figure(
  bench: string,
  value: number,
  unit: string,
  baseline: number,
  note: string,
  ratio = value / baseline,
): Figure {
  return { bench, value: round(value), unit, baseline: round(baseline), ratio: round(ratio), note };
}

/** Peak RSS of a service under its benchmark against the same process at rest just before the load. */
export function memoryFigure(bench: string, service: string, memory: { atRestMiB: number; peakMiB: number }): Figure {
  return figure(
    `${bench}.peak-rss`,
    memory.peakMiB,
    'MiB',
    memory.atRestMiB,
    `peak RSS of the ${service} process under this benchmark (sampled every 20 ms); baseline = the same process at rest before the load, ratio = peak ÷ rest`,
  );
}

export function print(f: Figure): void {
  process.stdout.write(`${JSON.stringify(f)}\n`);
}

/** Progress for people goes to stderr, so stdout holds only the JSON lines. */
export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const mib = (bytes: number) => bytes / (1024 * 1024);
