import { spawnSync } from 'node:child_process';
import { inject } from 'vitest';
import { onExit } from './cleanup.ts';
import { startPrivateNats, type PrivateNats } from './natsServer.ts';
import { startPostgresCluster, type PostgresCluster, type PostgresClusterOptions } from './postgresCluster.ts';

/**
 * A fault lab's own NATS and PostgreSQL, on free loopback ports and the lab's alone: containers when this run's servers
 * are containers (a machine with Docker may have no nats-server or initdb), so that a stop is the engine stopping the
 * container and a start the engine starting it again; else a nats-server process and an initdb cluster.
 */
export async function startLabServers(
  natsOptions: { maxPayload?: number },
  postgresOptions: PostgresClusterOptions = {},
): Promise<{ nats: PrivateNats; postgres: PostgresCluster }> {
  const plan = inject('serverPlan');
  if (plan.nats !== 'containers' && plan.postgres !== 'containers') {
    const [nats, postgres] = await Promise.all([startPrivateNats(natsOptions), startPostgresCluster(postgresOptions)]);
    return { nats, postgres };
  }
  const { startNatsContainer } = await import('../../containers/natsContainer.ts');
  const { startPostgresContainer } = await import('../../containers/postgresContainer.ts');
  const [nats, postgres] = await Promise.all([
    startNatsContainer(plan.images.nats, natsOptions).then(removedOnExit),
    startPostgresContainer(plan.images.postgres, postgresOptions).then(removedOnExit),
  ]);
  return { nats, postgres };
}

/** The container, removed also when the worker exits without its afterAll (best effort: the docker command may be missing). */
function removedOnExit<C extends { id: string; remove: () => Promise<void> }>(
  container: C,
): C & { destroy: () => Promise<void> } {
  const forget = onExit(
    () => void spawnSync('docker', ['rm', '--force', '--volumes', container.id], { stdio: 'ignore', timeout: 10_000 }),
  );
  return {
    ...container,
    destroy: async () => {
      await container.remove();
      forget();
    },
  };
}
