import { randomBytes } from 'node:crypto';
import { freePort, natsServerConfig, type EmbeddedNats } from '../../platform/embedded.ts';
import { containerEngine } from './engine.ts';
import { serverContainer } from './serverContainer.ts';

/** A NATS server with JetStream in a container, on this machine's loopback only, that the test may stop and start again. */
export type NatsContainer = EmbeddedNats & { image: string; id: string; remove: () => Promise<void> };

const CONFIG_FILE = '/cra-nats-server.conf';
const USER = 'cra';

/**
 * `nats-server` of `image` (whose entrypoint is the server, as the official image's) on the machine's network, bound
 * to 127.0.0.1 on a free port: the same configuration as the local process (platform/embedded.ts), password and all,
 * given in a file copied into the container rather than on its command line. `maxPayload` as there.
 */
export async function startNatsContainer(image: string, limits: { maxPayload?: number } = {}): Promise<NatsContainer> {
  await containerEngine();
  const { GenericContainer, Wait } = await import('testcontainers');
  const port = await freePort();
  const password = randomBytes(24).toString('hex');
  const config = natsServerConfig({ port, storeDir: '/data/jetstream', user: USER, password, ...limits });
  const ready = Wait.forLogMessage('Server is ready');
  const started = await new GenericContainer(image)
    .withNetworkMode('host')
    .withCopyContentToContainer([{ content: config, target: CONFIG_FILE, mode: 0o600 }])
    .withCommand(['--config', CONFIG_FILE])
    .withWaitStrategy(ready)
    .withStartupTimeout(30_000)
    .start();
  const container = await serverContainer(started, ready);
  return {
    image,
    id: container.id,
    url: `nats://${USER}:${password}@127.0.0.1:${port}`,
    address: `nats://127.0.0.1:${port}`,
    port,
    password,
    start: container.start,
    // SIGTERM is the server's clean shutdown, SIGKILL a crash: the same faults as on the local process.
    stop: (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => container.kill(signal),
    remove: container.remove,
  };
}
