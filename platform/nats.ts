import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from './logger.ts';

export type { NatsConnection };

export type NatsServers = { servers: string[]; user?: string; pass?: string; token?: string };

/**
 * NATS_URL as `nats://user:pass@host:port` (or `nats://token@host:port`), comma-separated: nats.js takes
 * credentials only as options, so they come out of the URLs here, and the URLs it keeps (and may print) hold none.
 */
export function parseNatsUrl(url: string): NatsServers {
  let credentials: Omit<NatsServers, 'servers'> | undefined;
  const servers = url
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((server) => {
      const found = /^([a-z]+:\/\/)?(.*)@([^@]+)$/i.exec(server);
      if (!found) return server;
      const [, scheme = '', userinfo = '', hostPort = ''] = found;
      const colon = userinfo.indexOf(':');
      credentials ??=
        colon === -1
          ? { token: decodeURIComponent(userinfo) }
          : { user: decodeURIComponent(userinfo.slice(0, colon)), pass: decodeURIComponent(userinfo.slice(colon + 1)) };
      return scheme + hostPort;
    });
  return { servers, ...credentials };
}

/** The one NATS connection helper: reconnects forever, so a restarted server is a pause, not a crash. */
export async function connectNats(url: string, options: { name: string; logger?: Logger }): Promise<NatsConnection> {
  const nc = await connect({
    ...parseNatsUrl(url),
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
