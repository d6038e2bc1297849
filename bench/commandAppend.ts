// command-append: SetAlert commands/s end to end through cra.cmd.* against raw JetStream publishes of the same messages.
import { randomBytes, randomUUID } from 'node:crypto';
import { commandClient } from '../platform/commandClient.ts';
import { connectNats } from '../platform/nats.ts';
import { EventStore } from '../platform/eventStore/index.ts';
import { waitForProjection } from '../platform/projectionWait.ts';
import { event, namespaceFor, subjects } from '../events/index.ts';
import { startProjector } from '../services/projector/main.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { spawnService, underLoad } from './lib/child.ts';
import { BENCH_SECRET, type BenchContext } from './lib/context.ts';
import { figure, median, memoryFigure, progress } from './lib/report.ts';
import {
  benchLogger,
  cleanUp,
  closedLoop,
  connect,
  CURRENCIES,
  newPlace,
  plainDecimal,
  seeded,
  type Place,
} from './lib/world.ts';
import type * as CommandRole from './roles/commandService.ts';
import type * as RawRole from './roles/rawPublisher.ts';
import type { SetAlertCall } from './roles/rawPublisher.ts';

const IN_FLIGHT = 64;

/** `count` distinct SetAlert commands (one new alert each) on pairs of plausible currencies. */
function setAlertCalls(count: number, label: string, seed: number): SetAlertCall[] {
  const random = seeded(seed);
  const codes = Object.keys(CURRENCIES);
  const users = Array.from({ length: 1000 }, () => `u${randomBytes(16).toString('hex')}`);
  return Array.from({ length: count }, (_, i) => {
    const base = codes[Math.floor(random() * codes.length)]!;
    let quote = codes[Math.floor(random() * codes.length)]!;
    if (quote === base) quote = base === 'EUR' ? 'USD' : 'EUR';
    const ratio = (CURRENCIES[quote]! / CURRENCIES[base]!) * (0.9 + random() * 0.2);
    return {
      commandId: randomUUID(),
      payload: {
        userId: users[i % users.length]!,
        alertId: `a${label}${i}`,
        base,
        quote,
        threshold: plainDecimal(ratio, 5),
      },
    };
  });
}

/** SetAlert is decided against the latest run's currencies in the read models: one run with every currency, projected. */
async function projectedRun(place: Place): Promise<number> {
  const c = await connect(place, 'bench-command-setup');
  await migrateSchema(c.pool, place.schema);
  const projector = startProjector({ store: c.store, pool: c.pool, schema: place.schema, logger: benchLogger() });
  try {
    const rates = Object.fromEntries(
      Object.entries(CURRENCIES)
        .filter(([code]) => code !== 'EUR')
        .map(([code, rate]) => [code, plainDecimal(rate, 6)]),
    );
    const at = new Date().toISOString();
    const { seq } = await c.store.append(
      subjects.rates(c.ns, 'frankfurter', 'bench'),
      [event('RatesFetched', { provider: 'frankfurter', base: 'EUR', asOf: 'bench', fetchedAt: at, rates })],
      {
        expectedSeq: 0,
        msgId: 'rates-bench',
        meta: { occurredAt: at, correlationId: 'rates-bench', causationId: 'rates-bench' },
      },
    );
    if (!(await waitForProjection(c.pool, place.schema, seq, 30_000)))
      throw new Error('command-append: the projector did not project the run');
    return seq;
  } finally {
    await projector.stop();
    await c.close();
  }
}

export async function commandAppend(ctx: BenchContext): Promise<void> {
  const rounds = ctx.quick ? 1 : 3;
  const perRound = ctx.quick ? 1_000 : 10_000;
  const warmup = ctx.quick ? 200 : 2_000;
  const ours: Place = newPlace(ctx, 'cmd');
  const raw: Place = newPlace(ctx, 'cmdraw');
  const publisher = await spawnService<typeof RawRole>(
    'raw-publisher',
    new URL('./roles/rawPublisher.ts', import.meta.url),
  );
  const command = await spawnService<typeof CommandRole>(
    'command',
    new URL('./roles/commandService.ts', import.meta.url),
  );
  const nc = await connectNats(ctx.natsUrl, { name: 'bench-command-callers' });
  try {
    const runSeq = await projectedRun(ours);
    await publisher.call('start', raw);
    await command.call('start', ours, BENCH_SECRET);
    const send = commandClient(nc, namespaceFor(ours.tag));
    const callers = async (calls: SetAlertCall[]) => {
      let failed = 0;
      let firstError = '';
      const ms = await closedLoop(IN_FLIGHT, calls.length, async (i) => {
        const call = calls[i]!;
        const reply = await send('SetAlert', call.payload, { commandId: call.commandId, timeoutMs: 30_000 });
        if (!reply.ok) {
          failed++;
          firstError ||= `${reply.error}: ${reply.message}`;
        }
      });
      return { ms, failed, firstError };
    };

    // Warm both up (JIT, connections, stream files), then alternate rounds so drift hits both alike.
    await publisher.call('prepare', setAlertCalls(warmup, 'w', 1));
    await publisher.call('publish', IN_FLIGHT);
    await callers(setAlertCalls(warmup, 'w', 1));

    const baselineRates: number[] = [];
    const ourRates: number[] = [];
    let peak = { atRestMiB: Infinity, peakMiB: 0 };
    for (let round = 0; round < rounds; round++) {
      const calls = setAlertCalls(perRound, `r${round}`, 100 + round);
      await publisher.call('prepare', calls);
      const base = await publisher.call('publish', IN_FLIGHT);
      if (base.failed > 0) ctx.fail(`command-append baseline: ${base.failed} raw publishes failed`);
      baselineRates.push((perRound / base.ms) * 1000);

      const { result, memory } = await underLoad(command, () => callers(calls));
      if (result.failed > 0)
        ctx.fail(`command-append: ${result.failed} of ${perRound} SetAlert commands failed (${result.firstError})`);
      ourRates.push((perRound / result.ms) * 1000);
      peak = { atRestMiB: Math.min(peak.atRestMiB, memory.atRestMiB), peakMiB: Math.max(peak.peakMiB, memory.peakMiB) };
      progress(
        `command-append round ${round + 1}/${rounds}: ${Math.round(ourRates.at(-1)!)} commands/s vs ${Math.round(baselineRates.at(-1)!)} raw publishes/s`,
      );
    }

    // Every command appended exactly one message, after the run.
    const store = await EventStore.open(nc, namespaceFor(ours.tag));
    const appended = (await store.lastSeq()) - runSeq;
    if (appended !== warmup + rounds * perRound)
      ctx.fail(`command-append: the stream holds ${appended} messages, expected ${warmup + rounds * perRound}`);

    ctx.emit(
      figure(
        'command-append',
        median(ourRates),
        'commands/s',
        median(baselineRates),
        `SetAlert end to end (request on cra.cmd.SetAlert: validate, read the alert policy facts from Postgres, decide, append with expected sequence, reply), ${IN_FLIGHT} concurrent callers, median of ${rounds} rounds of ${perRound}; baseline: raw JetStream publishes of the same AlertSet messages with Nats-Expected-Last-Subject-Sequence 0 and Nats-Msg-Id, ${IN_FLIGHT} in flight; goal ratio >= 0.5`,
      ),
    );
    ctx.emit(memoryFigure('command-append', 'command service', peak));
  } finally {
    await nc.close();
    await command.call('stop').catch(() => {});
    await publisher.call('stop').catch(() => {});
    await command.close();
    await publisher.close();
    await cleanUp(ours);
    await cleanUp(raw);
  }
}
