// projector-replay: events/s of a full rebuild of every read model against reading the same stream and doing nothing.
import { spawnService, underLoad } from './lib/child.ts';
import type { BenchContext } from './lib/context.ts';
import { figure, memoryFigure, progress } from './lib/report.ts';
import { sealedEvent } from './lib/sealing.ts';
import { syntheticLog, type LogMessage, type LogTotals } from './lib/syntheticLog.ts';
import { cleanUp, connect, newPlace } from './lib/world.ts';
import type * as ProjectorRole from './roles/projectorService.ts';
import type * as ReaderRole from './roles/orderedReader.ts';

/** Append the synthetic log with the event store, many appends in flight on one connection (so stored in log order). */
async function bulkLoad(place: ReturnType<typeof newPlace>, targetEvents: number): Promise<LogTotals> {
  const c = await connect(place, 'bench-loader');
  try {
    const log = syntheticLog(c.ns, targetEvents);
    let totals: LogTotals | undefined;
    const next = (): LogMessage | undefined => {
      if (totals) return undefined;
      const step = log.next();
      if (step.done) {
        totals = step.value;
        return undefined;
      }
      return step.value;
    };
    let appended = 0;
    const started = performance.now();
    // Personal fields sealed, as the services write them (the replay copies the longer values, never opens them): a
    // chunk at a time, sealed before any of it is appended, so that appends still go out in log order.
    for (;;) {
      const chunk: LogMessage[] = [];
      for (let m = chunk.length < 10_000 ? next() : undefined; m; m = chunk.length < 10_000 ? next() : undefined)
        chunk.push(m);
      if (chunk.length === 0) break;
      const sealed = await Promise.all(
        chunk.map(async (m) => ({ ...m, events: await Promise.all(m.events.map((e) => sealedEvent(c.personal, e))) })),
      );
      let i = 0;
      await Promise.all(
        Array.from({ length: 256 }, async () => {
          for (let m = sealed[i++]; m; m = sealed[i++]) {
            const id = `${place.tag}-${++appended}`;
            await c.store.append(m.subject, m.events, {
              expectedSeq: 'any',
              msgId: id,
              meta: { occurredAt: m.occurredAt, correlationId: id, causationId: id },
            });
            if (appended % 100_000 === 0) progress(`projector-replay: ${appended} messages appended`);
          }
        }),
      );
    }
    progress(
      `projector-replay: appended ${totals!.events} events in ${totals!.messages} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const last = await c.store.lastSeq();
    if (last !== totals!.messages) throw new Error(`the stream holds ${last} messages, expected ${totals!.messages}`);
    return totals!;
  } finally {
    await c.close();
  }
}

export async function projectorReplay(ctx: BenchContext): Promise<void> {
  const target = ctx.quick ? 5_000 : 500_000;
  const place = newPlace(ctx, 'proj');
  const reader = await spawnService<typeof ReaderRole>(
    'ordered-reader',
    new URL('./roles/orderedReader.ts', import.meta.url),
  );
  const projector = await spawnService<typeof ProjectorRole>(
    'projector',
    new URL('./roles/projectorService.ts', import.meta.url),
  );
  try {
    const totals = await bulkLoad(place, target);

    // Baseline first: it also brings the stream's files into the page cache, for the rebuild as much as for itself.
    await reader.call('start', place);
    const reads = [];
    for (let i = 0; i < 3; i++) reads.push(await reader.call('readAll'));
    const read = reads.sort((a, b) => a.ms - b.ms)[1]!;
    if (read.messages !== totals.messages)
      ctx.fail(`projector-replay baseline read ${read.messages} messages, expected ${totals.messages}`);
    const baseline = (totals.events / read.ms) * 1000;
    progress(
      `projector-replay: ordered consumer read ${read.messages} messages in ${(read.ms / 1000).toFixed(2)} s (median of 3)`,
    );

    await projector.call('start', place);
    const { result, memory } = await underLoad(projector, () => projector.call('rebuild', place));
    const ours = (totals.events / result.ms) * 1000;
    progress(`projector-replay: rebuild applied ${result.untilSeq} messages in ${(result.ms / 1000).toFixed(1)} s`);

    const expected: Record<string, number> = {
      registered: totals.registered,
      alerts: totals.alerts,
      deletedAlerts: totals.deletedAlerts,
      sessions: totals.sessions,
      closedSessions: totals.closedSessions,
      runs: totals.runs,
      triggers: totals.triggers,
      emails: totals.emails,
      parked: 0,
    };
    const wrong = Object.entries(expected).filter(([k, v]) => result.counts[k] !== v);
    if (result.checkpoint !== totals.messages)
      ctx.fail(`projector-replay: checkpoint ${result.checkpoint}, expected ${totals.messages}`);
    if (wrong.length > 0)
      ctx.fail(
        `projector-replay: read models differ from the log: ${wrong.map(([k, v]) => `${k} ${result.counts[k]} (expected ${v})`).join(', ')}`,
      );

    ctx.emit(
      figure(
        'projector-replay',
        ours,
        'events/s',
        baseline,
        `full rebuild (rebuildReadModels: new schema, replay from sequence 1, secondary indexes, swap) of ${totals.events} events in ${totals.messages} messages (${totals.registered} users, ${totals.alerts} alerts, ${totals.runs} runs, ${totals.triggers} triggers); baseline: an ordered consumer (512 per pull) reading the same stream and doing nothing, median of 3; goal ratio >= 0.4`,
      ),
    );
    ctx.emit(memoryFigure('projector-replay', 'projector', memory));
  } finally {
    await projector.call('stop').catch(() => {});
    await reader.call('stop').catch(() => {});
    await projector.close();
    await reader.close();
    await cleanUp(place);
  }
}
