import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.ts';

export type { NatsConnection };

/** The one NATS connection helper: reconnects forever, so a restarted server is a pause, not a crash. */
export async function connectNats(url: string, options: { name: string; logger?: Logger }): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    // Stack traces captured on every request cost ~13 % of the command service's CPU (bench: command-append).
    noAsyncTraces: true,
  });
  if (options.logger) {
    const logger = options.logger;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect') logger.warn({ nats: status.type }, `NATS ${status.type}`);
      }
    })();
  }
  return nc;
}
