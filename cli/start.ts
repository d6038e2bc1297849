import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Config } from '../platform/config.ts';
import { DevMailbox } from '../platform/devMailbox.ts';
import { browserUrl, isWildcardAddress } from '../platform/listenAddress.ts';
import type { Logger } from '../platform/logger.ts';
import { createMailer, type Mailer } from '../platform/mailer.ts';
import { createMetrics, type Metrics } from '../platform/metrics.ts';
import { commandClient } from '../platform/commandClient.ts';
import { closeOnSignal, type Closer } from '../platform/shutdown.ts';
import { linkSecret } from '../platform/tokens.ts';
import { startCommandService } from '../services/command/main.ts';
import { CLAIM_MS, startNotifier } from '../services/notifier/main.ts';
import {
  DEFAULT_PER_HOST,
  startWebhookDelivery,
  type WebhookConsumerDeps,
} from '../services/notifier/webhooks/consumer.ts';
import { HostSlots } from '../services/notifier/webhooks/hostSlots.ts';
import { guardedAgent } from '../platform/webhookHttp/guardedPost.ts';
import { startProjector } from '../services/projector/main.ts';
import { migrateSchema, readCheckpoint } from '../services/projector/projector.ts';
import { startScheduler } from '../services/scheduler/main.ts';
import { buildWebApp } from '../web/app.ts';
import { openConnections, type Connections } from './connect.ts';
import { resolveSecret, startInfrastructure } from './runtime.ts';

export const serviceNames = ['web', 'command', 'projector', 'notifier', 'scheduler'] as const;
export type ServiceName = (typeof serviceNames)[number];

type ServiceDeps = {
  config: Config;
  conn: Connections;
  logger: Logger;
  secret: string;
  metrics: Metrics;
  devMailbox: DevMailbox | undefined;
  servedMailbox: DevMailbox | undefined;
};
type Started = { stop: Closer; url?: string };

/** Which webhook URLs channels may have beyond public https ones (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE). */
/** The webhook deliverer as `cra start notifier` runs it beside the notifier; a test fixture may override its deps. */
export function startWebhooks(
  conn: Connections,
  config: Config,
  logger: Logger,
  overrides: Partial<WebhookConsumerDeps> = {},
) {
  const policy = webhookPolicy(config);
  return startWebhookDelivery({
    store: conn.store,
    personal: conn.personal,
    ns: conn.ns,
    pool: conn.pool,
    schema: conn.schema,
    publicUrl: config.PUBLIC_URL,
    send: commandClient(conn.nc, conn.ns),
    policy,
    agent: guardedAgent(policy),
    hosts: new HostSlots(DEFAULT_PER_HOST),
    now: () => new Date(),
    instanceId: randomUUID(),
    claimMs: CLAIM_MS,
    logger,
    ...overrides,
  });
}

const webhookPolicy = (config: Config) => ({
  allowHttp: config.WEBHOOK_ALLOW_HTTP,
  allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
});

/** Count what the mail server accepted, by kind (the Message-ID starts with it). */
function countingMailer(mailer: Mailer, metrics: Metrics): Mailer {
  return {
    close: mailer.close,
    send: async (email) => {
      try {
        await mailer.send(email);
        metrics.emailsSent.inc({ kind: /^<([a-z-]+)\./.exec(email.messageId)?.[1] ?? 'other' });
      } catch (error) {
        metrics.emailFailures.inc();
        throw error;
      }
    },
  };
}

const starters: Record<ServiceName, (deps: ServiceDeps) => Promise<Started>> = {
  command: async ({ config, conn, logger, secret, metrics }) =>
    startCommandService(conn.nc, {
      store: conn.store,
      ns: conn.ns,
      pool: conn.pool,
      schema: conn.schema,
      linkSecret: linkSecret(secret),
      personal: conn.personal,
      now: () => new Date(),
      linkEmailLimit: config.RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT,
      logger: logger.child({ service: 'command' }),
      onReply: (name, reply) => {
        metrics.commands.inc({ command: name, outcome: reply.ok ? 'ok' : reply.error });
        if (reply.ok) metrics.eventsAppended.inc();
      },
    }),
  projector: async ({ conn, logger, metrics }) => {
    const projector = startProjector({
      store: conn.store,
      pool: conn.pool,
      schema: conn.schema,
      logger: logger.child({ service: 'projector' }),
      hooks: {
        onApplied: (_seq, count) => metrics.projectorApplied.inc(count),
        onParked: () => metrics.parkedEvents.inc({ consumer: 'projector' }),
      },
    });
    const lag = setInterval(() => {
      void Promise.all([conn.store.lastSeq(), readCheckpoint(conn.pool, conn.schema)]).then(
        ([last, checkpoint]) => metrics.projectorLag.set(last - checkpoint),
        () => {},
      );
    }, 5_000);
    return { stop: async () => (clearInterval(lag), projector.stop()) };
  },
  notifier: async ({ config, conn, logger, secret, metrics, devMailbox }) => {
    const mailer = countingMailer(
      createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, ...(devMailbox ? { devMailbox } : {}) }),
      metrics,
    );
    const notifier = startNotifier({
      nc: conn.nc,
      store: conn.store,
      personal: conn.personal,
      ns: conn.ns,
      pool: conn.pool,
      schema: conn.schema,
      mailer,
      linkSecret: linkSecret(secret),
      publicUrl: config.PUBLIC_URL,
      mailFrom: config.MAIL_FROM,
      logger,
      hooks: { onParked: () => metrics.parkedEvents.inc({ consumer: 'notifier' }) },
    });
    const webhooks = startWebhooks(conn, config, logger);
    return { stop: async () => (await Promise.all([notifier.stop(), webhooks.stop()]), mailer.close()) };
  },
  scheduler: async ({ config, conn, logger, metrics }) =>
    startScheduler({
      config,
      store: conn.store,
      logger,
      fetchOnStart: true,
      hooks: {
        onStored: (r) => metrics.ratesFetched.inc({ provider: config.RATES_PROVIDER, new: String(!r.duplicate) }),
        onProviderError: (e) => metrics.providerErrors.inc({ provider: e.provider, kind: e.kind }),
      },
    }),
  web: async ({ config, conn, logger, secret, metrics, servedMailbox }) => {
    const app = await buildWebApp({
      send: commandClient(conn.nc, conn.ns),
      personal: conn.personal,
      log: conn.store,
      pool: conn.pool,
      schema: conn.schema,
      secret,
      publicUrl: config.PUBLIC_URL,
      logger,
      natsIsConnected: () => !conn.nc.isClosed() && conn.isConnected(),
      trustProxy: config.TRUST_PROXY,
      webhooks: { policy: webhookPolicy(config) },
      rateLimits: {
        loginPerClient: config.RATE_LIMIT_LOGIN_PER_CLIENT,
        loginPerUsername: config.RATE_LIMIT_LOGIN_PER_USERNAME,
        registerPerClient: config.RATE_LIMIT_REGISTER_PER_CLIENT,
        emailLinksPerClient: config.RATE_LIMIT_EMAIL_LINKS_PER_CLIENT,
        tokenLinksPerClient: config.RATE_LIMIT_TOKEN_LINKS_PER_CLIENT,
        emailsPerAddress: config.RATE_LIMIT_EMAILS_PER_ADDRESS,
        emailChangesPerAccount: config.RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT,
        exportsPerAccount: config.RATE_LIMIT_EXPORTS_PER_ACCOUNT,
      },
      metrics,
      ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
      ...(servedMailbox ? { devMailbox: servedMailbox } : {}),
    });
    try {
      await app.listen({ port: config.PORT, host: config.HOST });
    } catch (error) {
      await app.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      throw new Error(
        `the web port ${config.HOST}:${config.PORT} is already in use: stop what listens there, or set PORT`,
      );
    }
    return { stop: () => app.close(), url: browserUrl(config.HOST, config.PORT) };
  },
};

/**
 * The dev mailbox holds every verification and reset link, so the web shows it only in the all-in-one developer
 * start: every service in this one process (so the mailbox is this process's own), no SMTP_URL, not production.
 * `cra start web` alone (as a deployment runs it) never shows it, whatever else is set.
 */
export function servesDevMailbox(
  config: Pick<Config, 'SMTP_URL' | 'NODE_ENV'>,
  chosen: readonly ServiceName[],
): boolean {
  return !config.SMTP_URL && config.NODE_ENV !== 'production' && serviceNames.every((name) => chosen.includes(name));
}

/** `cra start [service…]`: the named services (all by default) in one process, on embedded defaults where unset. */
export async function startCommand(config: Config, names: string[], logger: Logger): Promise<number> {
  const unknown = names.filter((n) => !(serviceNames as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`unknown service(s) ${unknown.join(', ')}; choose from ${serviceNames.join(' ')}`);
  const chosen = names.length > 0 ? (names as ServiceName[]) : [...serviceNames];
  const closers: Closer[] = [];
  closeOnSignal(logger, closers);
  try {
    return await startChosen(config, chosen, logger, closers);
  } catch (error) {
    // A failed start stops what it started (an embedded nats-server left running keeps its port and its store).
    for (const close of [...closers].reverse()) await close().catch(() => {});
    throw error;
  }
}

async function startChosen(config: Config, chosen: ServiceName[], logger: Logger, closers: Closer[]): Promise<number> {
  const infra = await startInfrastructure(config, logger);
  closers.push(infra.stop);
  const conn = await openConnections(config, infra, logger, `cra-${chosen.join('-')}`);
  closers.push(conn.close);
  // Services that read the read models need their tables before the projector's first batch.
  await migrateSchema(conn.pool, conn.schema);
  const secret = resolveSecret(config);
  const metrics = createMetrics();
  // Without an SMTP server the notifier keeps emails in the data dir; the web shows them only as servesDevMailbox says.
  const devMailbox = config.SMTP_URL ? undefined : new DevMailbox(join(resolve(config.CRA_DATA_DIR), 'mailbox'));
  const servedMailbox = servesDevMailbox(config, chosen) ? devMailbox : undefined;
  let url: string | undefined;
  for (const name of chosen) {
    const started = await starters[name]({ config, conn, logger, secret, metrics, devMailbox, servedMailbox });
    closers.push(started.stop);
    url ??= started.url;
  }
  logger.info({ services: chosen, host: config.HOST, port: config.PORT }, 'started');
  const where = isWildcardAddress(config.HOST) ? ` (listening on every interface, ${config.HOST})` : '';
  if (url)
    process.stdout.write(`CRA is running at ${url}${where}${servedMailbox ? ` (emails: ${url}/dev/mailbox)` : ''}\n`);
  return new Promise<number>(() => {});
}
