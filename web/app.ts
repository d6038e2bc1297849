import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { SendCommand } from '../platform/commandClient.ts';
import type { WebDeps } from './deps.ts';
import { accountPageRoutes } from './account/routes.ts';
import { emailChangeRoutes } from './account/emailChangeRoutes.ts';
import { deleteAccountRoutes } from './account/deleteRoutes.ts';
import { accountRoutes } from './accounts/routes.ts';
import { activityRoutes } from './activity/routes.ts';
import { alertDetailRoutes } from './alerts/detailRoutes.ts';
import { alertRoutes } from './alerts/routes.ts';
import { channelRoutes } from './channels/routes.ts';
import { devMailboxRoutes } from './operations/devMailbox.ts';
import { operationsRoutes } from './operations/routes.ts';
import { assetRoutes } from './shared/assets.ts';
import { SharedRateLimits } from './shared/rateLimitStore.ts';
import { securityPlugin } from './shared/security.ts';
import { sessionPlugin } from './shared/session.ts';
import { unsubscribeRoutes } from './unsubscribe/routes.ts';

/** TRUST_PROXY as fastify takes it: a hop count becomes "the first n hops" (as fastify does for a number). */
function trustedProxies(
  setting: WebDeps['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting ?? false;
}

/** The web app, built from its dependencies; tests drive it with inject(), `cra start web` listens. */
export async function buildWebApp(deps: WebDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ service: 'web' }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    // The router answers an over-long path parameter itself, in JSON, past our error page: let the route refuse it.
    routerOptions: { maxParamLength: 16_384 },
    trustProxy: trustedProxies(deps.trustProxy),
    // Request ids are unique across instances: they become the correlation id of the commands a request sends.
    genReqId: () => randomUUID(),
  });
  await app.register(securityPlugin, { publicUrl: deps.publicUrl });
  app.decorateRequest('sendCommand', function (
    this: FastifyRequest,
    ...[name, payload, options]: Parameters<SendCommand>
  ) {
    return deps.send(name, payload, { correlationId: this.id, ...options });
  } as SendCommand);
  // Hooks that do not wait take a callback: no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  await app.register(formbody);
  app.decorate(
    'rateLimits',
    await SharedRateLimits.open({
      pool: deps.pool,
      schema: deps.schema,
      logger: app.log,
      keySecret: deps.secret,
      ...(deps.now ? { now: deps.now } : {}),
    }),
  );
  await app.register(sessionPlugin, deps);
  await app.register(assetRoutes);
  await app.register(accountRoutes, deps);
  await app.register(accountPageRoutes, deps);
  await app.register(emailChangeRoutes, deps);
  await app.register(alertRoutes, deps);
  await app.register(alertDetailRoutes, deps);
  await app.register(channelRoutes, deps);
  await app.register(unsubscribeRoutes, deps);
  await app.register(activityRoutes, deps);
  await app.register(deleteAccountRoutes, deps);
  await app.register(operationsRoutes, deps);
  await app.register(devMailboxRoutes, deps);
  if (deps.metrics) {
    const { httpDuration } = deps.metrics;
    app.addHook('onResponse', (request, reply, done) => {
      httpDuration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }
  app.get('/', (request, reply) => reply.redirect(request.account ? '/alerts' : '/login', 303));
  return app;
}
