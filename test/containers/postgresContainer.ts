import { randomBytes } from 'node:crypto';
import { freePort } from '../../platform/embedded.ts';
import { containerEngine } from './engine.ts';
import { serverContainer } from './serverContainer.ts';

/** PostgreSQL in a container, on this machine's loopback only, that the test may stop and start again. */
export type PostgresContainer = {
  image: string;
  id: string;
  /** Carries the generated password: never logged. */
  url: string;
  /** Where it listens, safe to print. */
  address: string;
  port: number;
  /** `fast` ends every session like an operator's stop (SIGINT), `immediate` is a crash (SIGQUIT). */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>;
  start: () => Promise<void>;
  isRunning: () => boolean;
  remove: () => Promise<void>;
};

/**
 * `@testcontainers/postgresql`'s container (its POSTGRES_USER/PASSWORD/DB contract, which the official image and
 * build-images.sh's both keep) on the machine's network instead of behind port bindings: testcontainers binds a
 * published port on every interface, and this machine's engine has no bridge network to publish from. So the module's
 * port binding and its mapped-port URL go; PGPORT puts the server, and everything run in the container, on a free port.
 */
export async function startPostgresContainer(
  image: string,
  options: { fullPageWrites?: boolean } = {},
): Promise<PostgresContainer> {
  await containerEngine();
  const { Wait } = await import('testcontainers');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const port = await freePort();
  const password = randomBytes(24).toString('hex');

  class LoopbackPostgreSqlContainer extends PostgreSqlContainer {
    constructor() {
      super(image);
      this.exposedPorts = [];
      this.createOpts.ExposedPorts = {};
      this.hostConfig.PortBindings = {};
    }

    // No health check: the module's runs pg_isready in the container 4 times a second for as long as the container
    // runs (a fifth of a core on this 2-core machine); readiness is asked only while the server starts (`ready`).
    override withHealthCheck(): this {
      this.createOpts.Healthcheck = { Test: ['NONE'] };
      return this;
    }
  }
  const ready = Wait.forSuccessfulCommand('pg_isready --host 127.0.0.1 --quiet');
  const started = await new LoopbackPostgreSqlContainer()
    .withNetworkMode('host')
    .withEnvironment({ PGPORT: String(port) })
    .withPassword(password)
    // Loopback only, and without the durability a throwaway server can do without (as the fault tests' local cluster).
    .withCommand([
      'postgres',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      `full_page_writes=${options.fullPageWrites ? 'on' : 'off'}`,
    ])
    .withWaitStrategy(ready)
    .start();
  const container = await serverContainer(started, ready);
  const url = new URL(`postgres://127.0.0.1:${port}`);
  url.username = started.getUsername();
  url.password = started.getPassword();
  url.pathname = started.getDatabase();
  return {
    image,
    id: container.id,
    url: url.toString(),
    address: `postgres://127.0.0.1:${port}/${started.getDatabase()}`,
    port,
    stop: (mode = 'fast') => container.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT'),
    start: container.start,
    isRunning: container.isRunning,
    remove: container.remove,
  };
}
