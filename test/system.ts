import type { FastifyInstance } from 'fastify';
import { commandClient } from '../platform/commandClient.ts';
import { linkSecret } from '../platform/tokens.ts';
import { startCommandService } from '../services/command/main.ts';
import { startProjector } from '../services/projector/main.ts';
import { CLAIM_MS, startNotifier, type NotifierDeps } from '../services/notifier/main.ts';
import type { RetryPolicy } from '../services/notifier/retryPolicy.ts';
import { startWebhookDelivery, type WebhookConsumerDeps } from '../services/notifier/webhooks/consumer.ts';
import { HostSlots } from '../services/notifier/webhooks/hostSlots.ts';
import { guardedAgent } from '../platform/webhookHttp/guardedPost.ts';
import { createMailer } from '../platform/mailer.ts';
import { startSmtpSink, type SmtpSink } from './smtpSink.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { buildWebApp } from '../web/app.ts';
import type { WebDeps } from '../web/deps.ts';
import { openTestWorld, type TestWorld } from './harness.ts';

export const TEST_SECRET = 'a test secret that is certainly long enough';

/**
 * The whole system in one test process on the real servers: command service, projector, notifier (to a real SMTP sink)
 * and web (inject only). `commandClock`: the command service's clock, which decides when links expire.
 */
export async function startTestSystem(
  options: {
    web?: Partial<Omit<WebDeps, 'personal'>>;
    notifier?: boolean;
    /** How the notifier tries again an email the mail server did not take for now (services/notifier/retryPolicy.ts). */
    mailRetry?: RetryPolicy;
    publicUrl?: string;
    captureLog?: boolean;
    commandClock?: () => Date;
    /** The namespace to run on (openTestWorld's `tag`), else a new one. */
    tag?: string;
    /**
     * The webhook deliverer's settings; by default it runs with the notifier and, as the tests' receivers are local,
     * allows http and private addresses (the SSRF specs pass a strict policy).
     */
    webhooks?: Partial<Pick<WebhookConsumerDeps, 'policy' | 'retry' | 'limits' | 'hooks' | 'claimMs' | 'instanceId'>>;
  } = {},
) {
  const publicUrl = options.publicUrl ?? 'http://localhost:7007';
  const world: TestWorld = await openTestWorld({
    captureLog: options.captureLog ?? false,
    ...(options.tag ? { tag: options.tag } : {}),
  });
  const smtp: SmtpSink = await startSmtpSink();
  await migrateSchema(world.pool, world.schema);
  const secret = linkSecret(TEST_SECRET);
  const command = startCommandService(world.nc, {
    store: world.store,
    ns: world.ns,
    pool: world.pool,
    schema: world.schema,
    linkSecret: secret,
    personal: world.personal,
    now: options.commandClock ?? (() => new Date()),
    logger: world.logger,
  });
  const projector = startProjector({
    store: world.store,
    pool: world.pool,
    schema: world.schema,
    logger: world.logger,
  });
  const mailer = createMailer({ smtpUrl: smtp.url, from: 'CRA <alerts@cra.test>' });
  const notifierDeps: NotifierDeps = {
    nc: world.nc,
    store: world.store,
    personal: world.personal,
    ns: world.ns,
    pool: world.pool,
    schema: world.schema,
    mailer,
    linkSecret: secret,
    publicUrl,
    mailFrom: 'CRA <alerts@cra.test>',
    logger: world.logger,
    ...(options.mailRetry ? { mailRetry: options.mailRetry } : {}),
  };
  const notifier = options.notifier === false ? undefined : startNotifier(notifierDeps);
  const send = commandClient(world.nc, world.ns);
  const policy = options.webhooks?.policy ?? { allowHttp: true, allowPrivate: true };
  const webhooks =
    options.notifier === false
      ? undefined
      : startWebhookDelivery({
          store: world.store,
          personal: world.personal,
          ns: world.ns,
          pool: world.pool,
          schema: world.schema,
          publicUrl,
          send,
          agent: guardedAgent(policy, options.webhooks?.limits),
          hosts: new HostSlots(2),
          now: () => new Date(),
          instanceId: 'webhooks-1',
          claimMs: CLAIM_MS,
          logger: world.logger,
          ...options.webhooks,
          policy,
        });
  const webDeps: WebDeps = {
    send,
    personal: world.personal,
    log: world.store,
    pool: world.pool,
    schema: world.schema,
    secret: TEST_SECRET,
    publicUrl,
    logger: world.logger,
    webhooks: { policy },
  };
  const app: FastifyInstance = await buildWebApp({
    ...webDeps,
    natsIsConnected: () => !world.nc.isClosed(),
    ...options.web,
  });
  return {
    world,
    app,
    /** Another web instance on this system's command service, log and database, as `cra start web` elsewhere. */
    anotherWeb: (extra: Partial<WebDeps> = {}) => buildWebApp({ ...webDeps, ...extra }),
    /** Another notifier instance on this system's log and database, as `cra start notifier` elsewhere; its caller stops it. */
    anotherNotifier: (extra: Partial<NotifierDeps> = {}) => startNotifier({ ...notifierDeps, ...extra }),
    send,
    smtp,
    linkSecret: secret,
    close: async () => {
      await app.close();
      await notifier?.stop();
      await webhooks?.stop();
      mailer.close();
      await smtp.close();
      await command.stop();
      await projector.stop();
      await world.close();
    },
  };
}
export type TestSystem = Awaited<ReturnType<typeof startTestSystem>>;
