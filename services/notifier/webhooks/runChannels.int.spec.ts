import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesIn, type TableNamer } from '../../../platform/postgres.ts';
import { READ_MODELS_CHECKPOINT } from '../../../platform/projectionWait.ts';
import { openTestWorld, type TestWorld } from '../../../test/harness.ts';
import { migrateSchema } from '../../projector/projector.ts';
import { runChannelsReader } from './runChannels.ts';

let world: TestWorld;
let t: TableNamer;

beforeAll(async () => {
  world = await openTestWorld();
  await migrateSchema(world.pool, world.schema);
  t = tablesIn(world.schema);
  await world.pool.query(
    `INSERT INTO ${t('rate_runs')} (run_seq, provider, base, as_of, fetched_at)
     VALUES (10, 'frankfurter', 'EUR', '2026-11-02', now()), (20, 'frankfurter', 'EUR', '2026-11-03', now())`,
  );
  // Ann: two channels before run 10 (added in that order), one paused, one added after it. Bob: one, changed at 15.
  await world.pool.query(
    `INSERT INTO ${t('channels')} (channel_id, user_id, url, format, secret, status, added_seq, added_at, updated_seq)
     VALUES ('ann-2', 'ann', 'u2', 'slack', 's2', 'active', 5, now(), 5),
            ('ann-1', 'ann', 'u1', 'json', 's1', 'active', 3, now(), 3),
            ('ann-paused', 'ann', 'u3', 'json', 's3', 'paused', 4, now(), 8),
            ('ann-late', 'ann', 'u4', 'json', 's4', 'active', 12, now(), 12),
            ('bob-1', 'bob', 'u5', 'discord', 's5', 'active', 2, now(), 15)`,
  );
  await world.pool.query(`INSERT INTO ${t('checkpoints')} (name, seq) VALUES ($1, 30)`, [READ_MODELS_CHECKPOINT]);
});
afterAll(async () => world?.close());

describe("a run's channels, read for many digests at once", () => {
  it("answers each digest with its own user's active channels added before its run, the run's date and the checkpoint", async () => {
    const read = runChannelsReader(world.pool, world.schema);
    const [ann10, bob10, ann20, nobody, unknownRun] = await Promise.all([
      read('ann', 10),
      read('bob', 10),
      read('ann', 20),
      read('carl', 10),
      read('bob', 99),
    ]);
    const ids = (found: { channels: { channelId: string }[] }) => found.channels.map((c) => c.channelId);
    expect(ids(ann10)).toEqual(['ann-1', 'ann-2']);
    expect(ann10).toMatchObject({ checkpoint: 30, asOf: '2026-11-02' });
    expect(ann10.channels[0]).toEqual({
      channelId: 'ann-1',
      userId: 'ann',
      url: 'u1',
      format: 'json',
      secret: 's1',
      status: 'active',
      updatedSeq: 3,
    });
    expect(ids(bob10)).toEqual(['bob-1']);
    expect(bob10.channels[0]!.updatedSeq).toBe(15);
    expect(ids(ann20)).toEqual(['ann-1', 'ann-2', 'ann-late']);
    expect(ann20.asOf).toBe('2026-11-03');
    expect(nobody).toEqual({ checkpoint: 30, asOf: '2026-11-02', channels: [] });
    expect(unknownRun).toMatchObject({ checkpoint: 30, asOf: undefined });
  });
});
