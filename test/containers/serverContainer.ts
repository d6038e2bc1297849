import type { StartedTestContainer, WaitStrategy } from 'testcontainers';
import { containerEngine } from './engine.ts';

/** A started server container the tests may stop, with the signal an operator or a crash would send, and start again. */
export type ServerContainer = {
  id: string;
  /** Sends the signal to the server (the container's main process) and waits until the container has stopped. */
  kill: (signal: NodeJS.Signals) => Promise<void>;
  /** Starts the stopped container again, with its filesystem as it was, and waits until the server is ready. */
  start: () => Promise<void>;
  isRunning: () => boolean;
  /** Stops and removes the container and its volumes: the harness's own teardown, with or without testcontainers' reaper. */
  remove: () => Promise<void>;
};

export async function serverContainer(started: StartedTestContainer, ready: WaitStrategy): Promise<ServerContainer> {
  const { BoundPorts, waitForContainer } = await import('testcontainers');
  const client = await containerEngine();
  const container = client.container.getById(started.getId());
  let running = true;
  return {
    id: started.getId(),
    kill: async (signal) => {
      if (!running) return;
      await container.kill({ signal });
      await container.wait();
      running = false;
    },
    start: async () => {
      if (running) return;
      // Its log from here on is this start's: the engine's StartedAt can come after a fast server's first lines.
      const since = new Date();
      await client.container.start(container);
      running = true;
      // Host networking binds no ports: the log, or a command in the container, tells readiness.
      await waitForContainer(client, container, ready, new BoundPorts(), since);
    },
    isRunning: () => running,
    remove: async () => {
      await started.stop({ remove: true, removeVolumes: true, timeout: 0 });
      running = false;
    },
  };
}
