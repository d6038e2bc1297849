// `npm run bench [-- --quick] [-- --only a,b] [-- --cpu-prof DIR]`: every benchmark against the real NATS and Postgres,
// one JSON line per figure on stdout, progress on stderr. Exits 1 when a correctness check failed.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { commandAppend } from './commandAppend.ts';
import { dailyRun } from './dailyRun.ts';
import { emailDigest } from './emailDigest.ts';
import { notifierMatch } from './notifierMatch.ts';
import { projectorReplay } from './projectorReplay.ts';
import { webAlertsPage } from './webAlertsPage.ts';
import { webhookDelivery } from './webhookDelivery.ts';
import { childOptions } from './lib/child.ts';
import type { BenchContext, Benchmark } from './lib/context.ts';
import { print, progress } from './lib/report.ts';
import { resolveTestServers } from '../test/servers.ts';

const benchmarks: Benchmark[] = [
  { name: 'command-append', run: commandAppend },
  { name: 'projector-replay', run: projectorReplay },
  { name: 'notifier-match', run: notifierMatch },
  { name: 'web-alerts-page', run: webAlertsPage },
  { name: 'email-digest', run: emailDigest },
  { name: 'webhook-delivery', run: webhookDelivery },
  { name: 'daily-run', run: dailyRun },
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});

const only = values.only?.split(',').map((s) => s.trim());
const unknown = only?.filter((n) => !benchmarks.some((b) => b.name === n)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s) ${unknown.join(', ')}; choose from ${benchmarks.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}
if (values['cpu-prof']) childOptions.cpuProfileDir = resolve(values['cpu-prof']);

const servers = await resolveTestServers();
const failures: string[] = [];
const ctx: BenchContext = {
  natsUrl: servers.natsUrl,
  databaseUrl: servers.databaseUrl,
  quick: values.quick,
  emit: print,
  fail: (message) => {
    failures.push(message);
    progress(`FAILED: ${message}`);
  },
};
progress(`${servers.summary}${values.quick ? ', quick sizes' : ''}`);
const started = performance.now();
try {
  for (const benchmark of benchmarks) {
    if (only && !only.includes(benchmark.name)) continue;
    const t0 = performance.now();
    progress(`${benchmark.name}…`);
    try {
      await benchmark.run(ctx);
    } catch (error) {
      ctx.fail(
        `${benchmark.name} did not complete: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
    progress(`${benchmark.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
} finally {
  await servers.stop();
}
progress(
  `all done in ${((performance.now() - started) / 1000).toFixed(1)} s${failures.length ? `; ${failures.length} check(s) failed` : ''}`,
);
process.exit(failures.length > 0 ? 1 : 0);
