import type { SendCommand } from '../platform/commandClient.ts';
import type { EventStore } from '../platform/eventStore/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { PersonalData } from '../platform/personalData/index.ts';
import type { Pool } from '../platform/postgres.ts';
import type { DevMailbox } from '../platform/devMailbox.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { RateLimit, rateLimitDefaults } from '../platform/rateLimits.ts';
import type { DestinationPolicy, Resolve } from '../platform/webhookHttp/destination.ts';

/** The web's rate limits (RATE_LIMIT_* settings); each one unset takes its default from rateLimitDefaults. */
export type WebRateLimits = Partial<Record<Exclude<keyof typeof rateLimitDefaults, 'linkEmailsPerAccount'>, RateLimit>>;

/** Everything the web needs, passed in: the app itself opens no connection and reads no environment. */
export type WebDeps = {
  send: SendCommand;
  /** The log, read only by whole subjects of the signed-in user: their data export (web/account/) and an alert's history (web/alerts/). */
  log: Pick<EventStore, 'ns' | 'load'>;
  pool: Pool;
  schema: string;
  /** Signs session cookies and CSRF cookies. */
  secret: string;
  publicUrl: string;
  /** Opens sealed personal fields and hashes addresses for lookups (platform/personalData). */
  personal: PersonalData;
  logger: Logger;
  now?: () => Date;
  /** Bounded wait for the projector after a command, so users see their own change. */
  projectionWaitMs?: number;
  rateLimits?: WebRateLimits;
  /** Is NATS reachable right now? (for /healthz and the 503 page) */
  natsIsConnected?: () => boolean;
  /** The all-in-one start's dev mailbox, shown at /dev/mailbox to loopback clients only; absent everywhere else. */
  devMailbox?: Pick<DevMailbox, 'list' | 'read'>;
  metrics?: Metrics;
  /** The bearer token /metrics requires (METRICS_TOKEN); without one, only loopback clients get metrics. */
  metricsToken?: string;
  /** Which proxies' X-Forwarded-For is believed (TRUST_PROXY); none by default, so a client cannot pick its address. */
  trustProxy?: boolean | number | string[];
  /** Bound on the rendered alerts markup kept in memory, in bytes (default RENDERED_PAGES_MAX_BYTES in alerts/keptMarkup/keptAlertsMarkup.ts). */
  renderedPagesMaxBytes?: number;
  /** Which webhook URLs a channel may have beyond public https ones (WEBHOOK_ALLOW_*), and the resolver tests name hosts with. */
  webhooks?: { policy: DestinationPolicy; resolve?: Resolve };
};

declare module 'fastify' {
  interface FastifyRequest {
    /** Send a command with this request's id as its correlation id, so one id follows it through every service. */
    sendCommand: SendCommand;
  }
}
