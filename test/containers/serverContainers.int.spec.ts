import { existsSync, readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectNats } from '../../platform/nats.ts';
import { createPool } from '../../platform/postgres.ts';
import { containerEngine } from './engine.ts';
import { startNatsContainer, type NatsContainer } from './natsContainer.ts';
import { startPostgresContainer, type PostgresContainer } from './postgresContainer.ts';

const started: Array<{ id: string; remove: () => Promise<void> }> = [];
afterAll(async () => {
  for (const container of started) await container.remove();
}, 30_000);

/** Removes the container as the harness's teardown does, and says whether the engine still has it, running or not. */
async function removedForGood(container: { id: string; remove: () => Promise<void> }): Promise<boolean> {
  await container.remove();
  const all = await (await containerEngine()).container.dockerode.listContainers({ all: true });
  return !all.some((c) => c.Id === container.id);
}

/** The local addresses this machine listens on at `port` (Linux: /proc/net/tcp and tcp6), as the kernel shows them. */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, hexPort] = local?.split(':') ?? [];
      if (state === '0A' && hexPort && parseInt(hexPort, 16) === port) found.push(address!);
    }
  }
  return found;
}
const LOOPBACK = '0100007F';

// Only when this run's servers are containers: then the images are at hand (elsewhere the engine might try to pull them).
const plan = inject('serverPlan');
describe.skipIf(plan.nats !== 'containers' && plan.postgres !== 'containers')('the test servers in containers', () => {
  const images = plan.images;

  it('NATS: JetStream on loopback only, for its password; a stop and a start keep the streams', async () => {
    const nats: NatsContainer = await startNatsContainer(images.nats, { maxPayload: 4096 });
    started.push(nats);
    if (existsSync('/proc/net/tcp')) expect(listeningAddresses(nats.port)).toEqual([LOOPBACK]);
    await expect(connectNats(nats.address, { name: 'no-password' })).rejects.toThrow();

    const nc = await connectNats(nats.url, { name: 'container-test' });
    expect(nc.info?.max_payload).toBe(4096);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'KEPT', subjects: ['kept.>'] });
    await nc.request('kept.one', 'first');
    await nc.close();

    await nats.stop('SIGTERM');
    await expect(connectNats(nats.url, { name: 'while-stopped' })).rejects.toThrow();
    await nats.start();
    const again = await connectNats(nats.url, { name: 'container-test-again' });
    expect((await (await jetstreamManager(again)).streams.info('KEPT')).state.messages).toBe(1);
    await again.close();
    expect(await removedForGood(nats)).toBe(true);
  }, 60_000);

  it('Postgres: on loopback only, for its password; a fast stop, a crash and a start keep what was committed', async () => {
    const postgres: PostgresContainer = await startPostgresContainer(images.postgres);
    started.push(postgres);
    if (existsSync('/proc/net/tcp')) expect(listeningAddresses(postgres.port)).toEqual([LOOPBACK]);
    const wrong = new URL(postgres.url);
    wrong.password = 'not-the-password';
    const refused = createPool(wrong.toString(), { max: 1 });
    await expect(refused.query('SELECT 1')).rejects.toMatchObject({ code: '28P01' });
    await refused.end();

    const pool = createPool(postgres.url, { max: 1 });
    pool.on('error', () => {});
    await pool.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)');
    for (const mode of ['fast', 'immediate'] as const) {
      await postgres.stop(mode);
      expect(postgres.isRunning()).toBe(false);
      await expect(pool.query('SELECT 1')).rejects.toThrow();
      await postgres.start();
      expect((await pool.query<{ n: number }>('SELECT n FROM kept')).rows).toEqual([{ n: 1 }]);
    }
    await pool.end();
    expect(await removedForGood(postgres)).toBe(true);
  }, 60_000);
});
