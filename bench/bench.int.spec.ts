import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every figure `npm run bench` prints, by name. */
const figures = [
  'command-append',
  'command-append.peak-rss',
  'projector-replay',
  'projector-replay.peak-rss',
  'notifier-match',
  'notifier-match@1000',
  'notifier-match@10000',
  'notifier-match.growth',
  'notifier-match.peak-rss',
  'web-alerts-page',
  'web-alerts-page.peak-rss',
  'email-digest',
  'email-digest.peak-rss',
  'webhook-delivery',
  'webhook-delivery.peak-rss',
  'daily-run',
  'daily-run.projector.peak-rss',
  'daily-run.notifier-1.peak-rss',
  'daily-run.notifier-2.peak-rss',
];

// The smoke test of the benchmarks: the quick sizes on the test servers. It checks that every benchmark runs, cleans
// up, passes its correctness checks (the run exits 1 otherwise) and prints its figures; not that goals are met.
it('npm run bench -- --quick runs every benchmark and prints one JSON line per figure', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick'], {
    cwd: root,
    // This run's servers, whichever way they came (CRA_TEST_SERVERS=containers would start more).
    env: { ...process.env, CRA_TEST_SERVERS: 'urls', NATS_URL: inject('natsUrl'), DATABASE_URL: inject('databaseUrl') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, stderr.slice(-4000)).toBe(0);

  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(lines.map((l) => l.bench)).toEqual(figures);
  for (const line of lines) {
    expect(Object.keys(line)).toEqual(['bench', 'value', 'unit', 'baseline', 'ratio', 'note']);
    for (const key of ['value', 'baseline', 'ratio'])
      expect(Number.isFinite(line[key]) && (line[key] as number) > 0, `${line.bench}.${key}`).toBe(true);
    expect(typeof line.unit === 'string' && typeof line.note === 'string').toBe(true);
  }
}, 240_000);
