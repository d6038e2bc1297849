import { spawn } from 'node:child_process';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header, event, subjects, type DomainEvent } from '../../events/index.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { meta, openTestWorld, uniqueId, type TestWorld } from '../../test/harness.ts';
import { applyBatch, migrateSchema, readCheckpoint, runProjector } from './projector.ts';
import { compareSchemas, rebuildReadModels, replayInto } from './rebuild.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

const userId = 'u0123456789abcdef0123456789abcdef';
async function appendAlerts(count: number, prefix: string) {
  for (let i = 0; i < count; i++) {
    const alertId = `${prefix}${i}`;
    const events: DomainEvent[] = [
      event('AlertSet', { alertId, userId, base: 'EUR', quote: 'USD', threshold: `1.${i + 1}` }),
    ];
    await world.store.append(subjects.alert(world.ns, alertId), events, {
      expectedSeq: 0,
      msgId: uniqueId(),
      meta: meta(),
    });
    if (i % 3 === 0) {
      await world.store.append(subjects.alert(world.ns, alertId), [event('AlertDeleted', { alertId, userId })], {
        expectedSeq: 'any',
        msgId: uniqueId(),
        meta: meta(),
      });
    }
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('projector', () => {
  it('parks a poison message and goes on applying later events', async () => {
    const schema = `${world.schema}_poison`;
    await appendAlerts(2, 'before');
    const poison = [
      await world.store.appendRaw(`${world.ns.events}.alert.poison1`, new TextEncoder().encode('{not json'), {
        [Header.type]: 'AlertSet',
        [Header.version]: '1',
      }),
      await world.store.appendRaw(`${world.ns.events}.alert.poison2`, new TextEncoder().encode('{}'), {
        [Header.type]: 'AlertExploded',
        [Header.version]: '1',
      }),
      await world.store.appendRaw(`${world.ns.events}.alert.poison3`, new TextEncoder().encode('{"alertId":"p3"}'), {
        [Header.type]: 'AlertSet',
        [Header.version]: '1',
      }),
      await world.store.appendRaw(`${world.ns.events}.alert.poison4`, new TextEncoder().encode('{}'), {
        [Header.type]: 'AlertSet',
        [Header.version]: '3',
      }),
    ];
    await appendAlerts(2, 'after');
    const last = await world.store.lastSeq();
    await replayInto({ store: world.store, pool: world.pool, schema, untilSeq: last, logger: world.logger });
    const t = tablesIn(schema);
    const parked = await world.pool.query(`SELECT seq, reason FROM ${t('parked_events')} ORDER BY seq`);
    expect(parked.rows.map((r) => r.seq)).toEqual(poison);
    expect(parked.rows.map((r) => r.reason).join('\n')).toMatch(
      /not JSON[\s\S]*unknown event type[\s\S]*breaks its schema[\s\S]*newer than this code/,
    );
    const after = await world.pool.query(
      `SELECT alert_id FROM ${t('alerts')} WHERE alert_id LIKE 'after%' ORDER BY alert_id`,
    );
    expect(after.rows.map((r) => r.alert_id)).toEqual(['after0', 'after1']);
    expect(await readCheckpoint(world.pool, schema)).toBe(last);
  });

  it('never applies a batch twice: a replayed batch below the checkpoint changes nothing', async () => {
    const schema = `${world.schema}_twice`;
    const last = await world.store.lastSeq();
    await replayInto({ store: world.store, pool: world.pool, schema, untilSeq: last, logger: world.logger });
    const batch = [];
    for await (const raw of world.store.read({ fromSeq: 1, untilSeq: last })) batch.push(raw);
    await applyBatch(world.pool, schema, batch, {}, world.logger);
    expect(await compareSchemas(world.pool, schema, `${world.schema}_poison`)).toEqual([]);
  });

  it('killed with SIGKILL mid-stream and restarted, ends equal to one clean rebuild', async () => {
    const schema = `${world.schema}_killed`;
    // Enough batches of 7 that a projector killed within ~70 ms of its first commit is killed several times.
    await appendAlerts(400, 'bulk');
    const last = await world.store.lastSeq();
    const env = {
      ...process.env,
      NATS_URL: world.natsUrl,
      DATABASE_URL: world.databaseUrl,
      CRA_NAMESPACE: world.tag,
      CRA_SCHEMA: schema,
      BATCH: '7',
    };
    let kills = 0;
    for (;;) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/projectorProcess.ts'], {
        env,
        stdio: 'ignore',
      });
      const start = (await readCheckpoint(world.pool, schema).catch(() => 0)) as number;
      if (start >= last) {
        child.kill('SIGKILL');
        break;
      }
      await waitFor(
        async () => (await readCheckpoint(world.pool, schema).catch(() => 0)) > start || child.exitCode !== null,
        30_000,
      );
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
    }
    expect(kills).toBeGreaterThan(1);
    await rebuildReadModels({
      store: world.store,
      pool: world.pool,
      schema: `${world.schema}_clean`,
      logger: world.logger,
    });
    expect(await compareSchemas(world.pool, schema, `${world.schema}_clean`)).toEqual([]);
    const count = await world.pool.query(`SELECT count(*)::int AS n FROM ${tablesIn(schema)('activity')}`);
    const expected = await world.pool.query(
      `SELECT count(*)::int AS n FROM ${tablesIn(`${world.schema}_clean`)('activity')}`,
    );
    expect(count.rows[0].n).toBe(expected.rows[0].n);
  }, 120_000);

  it('follows the log live and catches up after a rebuild swaps its schema', async () => {
    const schema = `${world.schema}_live`;
    const controller = new AbortController();
    const running = runProjector({
      store: world.store,
      pool: world.pool,
      schema,
      logger: world.logger,
      signal: controller.signal,
      retryDelayMs: 50,
    });
    await waitFor(
      async () => (await readCheckpoint(world.pool, schema).catch(() => 0)) === (await world.store.lastSeq()),
    );
    await rebuildReadModels({ store: world.store, pool: world.pool, schema, logger: world.logger });
    await appendAlerts(3, `live${uniqueId()}`);
    await waitFor(
      async () => (await readCheckpoint(world.pool, schema).catch(() => 0)) === (await world.store.lastSeq()),
    );
    controller.abort();
    await running;
    await replayInto({
      store: world.store,
      pool: world.pool,
      schema: `${world.schema}_ref`,
      untilSeq: await world.store.lastSeq(),
      logger: world.logger,
    });
    expect(await compareSchemas(world.pool, schema, `${world.schema}_ref`)).toEqual([]);
    // The rebuild built its secondary indexes after the replay: the swapped-in schema has every one a migrated schema has.
    const migrated = `${world.schema}_migrated`;
    await migrateSchema(world.pool, migrated);
    const indexes = async (name: string) =>
      (
        await world.pool.query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1`, [name])
      ).rows
        .map((r) => r.def.replaceAll(`"${name}".`, 'S.').replaceAll(`${name}.`, 'S.'))
        .sort();
    const expected = await indexes(migrated);
    expect(expected.filter((d) => d.includes('lower(email)') || d.includes('(user_id, seq)'))).toHaveLength(2);
    expect(await indexes(schema)).toEqual(expected);
  }, 60_000);

  it('reads thresholds a v1 writer stored with leading zeros as their canonical form', async () => {
    const alertId = `v1${uniqueId()}`;
    const v1 = (type: string) => ({
      [Header.type]: type,
      [Header.version]: '1',
      [Header.occurredAt]: new Date().toISOString(),
    });
    const body = (data: object) => new TextEncoder().encode(JSON.stringify(data));
    const set = { alertId, userId, base: 'EUR', quote: 'USD', threshold: `${'0'.repeat(60_000)}1.50` };
    await world.store.appendRaw(subjects.alert(world.ns, alertId), body(set), v1('AlertSet'));
    const triggered = { ...set, runSeq: 1, previousRatio: '1.4', currentRatio: '1.6', direction: 'up' };
    await world.store.appendRaw(subjects.alert(world.ns, alertId), body(triggered), v1('AlertTriggered'));
    const schema = `${world.schema}_v1`;
    await replayInto({
      store: world.store,
      pool: world.pool,
      schema,
      untilSeq: await world.store.lastSeq(),
      logger: world.logger,
    });
    const t = tablesIn(schema);
    expect(
      (await world.pool.query(`SELECT threshold_text FROM ${t('alerts')} WHERE alert_id = $1`, [alertId])).rows,
    ).toEqual([{ threshold_text: '1.50' }]);
    expect(
      (await world.pool.query(`SELECT count(*)::int AS n FROM ${t('alert_triggers')} WHERE alert_id = $1`, [alertId]))
        .rows,
    ).toEqual([{ n: 1 }]);
    const activity = (
      await world.pool.query<{ summary: string }>(
        `SELECT summary FROM ${t('activity')} WHERE user_id = $1 ORDER BY seq DESC LIMIT 2`,
        [userId],
      )
    ).rows;
    expect(activity.map((r) => r.summary)).toEqual([
      'Alert EUR/USD at 1.50 triggered: 1.4 → 1.6, crossed upward ↑',
      'Set an alert on EUR/USD at 1.50',
    ]);
  });

  it('replays a log whose first sequences were purged and whose messages were deleted between batches', async () => {
    const gappy = await openTestWorld();
    try {
      const jsm = await jetstreamManager(gappy.nc);
      const set = (alertId: string) =>
        gappy.store.append(
          subjects.alert(gappy.ns, alertId),
          [event('AlertSet', { alertId, userId, base: 'EUR', quote: 'USD', threshold: '1.1' })],
          { expectedSeq: 0, msgId: uniqueId(), meta: meta() },
        );
      await set('gone1');
      await jsm.streams.purge(gappy.ns.stream, { seq: (await set('gone2')).seq + 1 });
      await set('kept1');
      await jsm.streams.deleteMessage(gappy.ns.stream, (await set('gone3')).seq, false);
      const last = (await set('kept2')).seq;
      const schema = `${gappy.schema}_gaps`;
      // One message a batch: each gap falls between two batches.
      await replayInto({
        store: gappy.store,
        pool: gappy.pool,
        schema,
        untilSeq: last,
        logger: gappy.logger,
        batchSize: 1,
      });
      expect(await readCheckpoint(gappy.pool, schema)).toBe(last);
      const rows = await gappy.pool.query(`SELECT alert_id FROM ${tablesIn(schema)('alerts')} ORDER BY alert_id`);
      expect(rows.rows).toEqual([{ alert_id: 'kept1' }, { alert_id: 'kept2' }]);
    } finally {
      await gappy.close();
    }
  }, 15_000);
});
