import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../deps.ts';

/** /healthz (200 only when NATS and Postgres answer) and /metrics (Prometheus). */
export async function operationsRoutes(app: FastifyInstance, deps: WebDeps) {
  app.get('/healthz', async (_request, reply) => {
    const nats = deps.natsIsConnected?.() ?? false;
    const postgres = await Promise.race([
      deps.pool.query('SELECT 1').then(() => true, () => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    const ok = nats && postgres;
    return reply.code(ok ? 200 : 503).header('Cache-Control', 'no-store').send({ status: ok ? 'ok' : 'unavailable', nats: nats ? 'ok' : 'down', postgres: postgres ? 'ok' : 'down' });
  });

  if (deps.metrics) {
    const { register } = deps.metrics;
    app.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()));
  }
}
