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

/**
 * A frozen server (SIGSTOP, a hung VM) keeps its sockets open and answers nothing: only unanswered pings tell, and its
 * kernel still completes TCP handshakes, so a reconnect to it waits out the connect timeout. Pinged every 2 s with 2
 * pings outstanding, a client gives it up after about 6 s, and a reconnect attempt waits at most 2 s per server: a
 * frozen node is left within ~8 s (nats.js's defaults, 2 min and 20 s, kept every client of a frozen node waiting
 * for minutes; measured on the cluster bed, test/cluster/).
 */
const NATS_LIVENESS = { pingInterval: 2_000, maxPingOut: 2, timeout: 2_000 } as const;

/** The one NATS connection helper: reconnects forever, so a restarted server is a pause, not a crash. */
export async function connectNats(url: string, options: { name: string; logger?: Logger }): Promise<NatsConnection> {
  const nc = await connect({
    ...parseNatsUrl(url),
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: false,
    ...NATS_LIVENESS,
    // Stack traces captured on every request cost ~13 % of the command service's CPU (bench: command-append).
    noAsyncTraces: true,
  });
  if (options.logger) {
    const logger = options.logger;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'reconnect')
          logger.warn({ nats: status.type, server: status.server }, `NATS ${status.type}`);
      }
    })();
  }
  return nc;
}
