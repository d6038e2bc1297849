import type { NatsConnection } from '@nats-io/transport-node';

/** How long a JetStream request waits for its answer, and an operation for a lost connection to come back. */
export const OPERATION_TIMEOUT_MS = 10_000;

/** NATS was unreachable for longer than an operation could wait. */
export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';
}

/**
 * Whether the connection is up, and a signal each time it is back after an outage (a restarted server, a network
 * break). A JetStream publish made while the client is reconnecting is lost (the client buffers it, and its answer
 * never comes: it times out), so writers wait for the connection instead; consumers start over when it is back,
 * because a consumer from before a server restart may never deliver again and acknowledgements sent just before
 * it may never have been stored.
 */
export class ConnectionWatch {
  private readonly listeners = new Set<() => void>();
  private up = true;

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.up = false;
        if (status.type !== 'reconnect') continue;
        this.up = true;
        for (const listener of [...this.listeners]) listener();
      }
    })();
  }

  get connected(): boolean {
    return this.up;
  }

  /** Call `listener` on every reconnect until the returned function is called. */
  onReconnect(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolve at once when connected, else when the connection is back; fail after `timeoutMs`. */
  async whenConnected(timeoutMs: number): Promise<void> {
    if (this.up) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new NatsUnavailableError(`NATS has been unreachable for ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.onReconnect(() => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }
}
