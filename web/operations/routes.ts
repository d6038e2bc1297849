import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebDeps } from '../deps.ts';
import { fromThisMachine } from './localClient.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may read /metrics (its counters tell, for one, whether a reset request named a registered address): the
 * bearer of METRICS_TOKEN, compared in constant time over hashes of equal length; with no token set, this machine.
 */
function metricsAccess(
  token: string | undefined,
): (request: Pick<FastifyRequest, 'socket' | 'headers'>) => 'allowed' | 'unauthorized' | 'hidden' {
  if (token === undefined) return (request) => (fromThisMachine(request) ? 'allowed' : 'hidden');
  const expected = sha256(token);
  return (request) => {
    const given = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')?.[1];
    return given !== undefined && timingSafeEqual(sha256(given), expected) ? 'allowed' : 'unauthorized';
  };
}

/** /healthz (200 only when NATS and Postgres answer) and /metrics (Prometheus, for METRICS_TOKEN's bearer or this machine). */
export async function operationsRoutes(app: FastifyInstance, deps: WebDeps) {
  app.get('/healthz', async (_request, reply) => {
    const nats = deps.natsIsConnected?.() ?? false;
    const postgres = await Promise.race([
      deps.pool.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2_000).unref()),
    ]);
    const ok = nats && postgres;
    return reply
      .code(ok ? 200 : 503)
      .header('Cache-Control', 'no-store')
      .send({ status: ok ? 'ok' : 'unavailable', nats: nats ? 'ok' : 'down', postgres: postgres ? 'ok' : 'down' });
  });

  if (deps.metrics) {
    const { register } = deps.metrics;
    const access = metricsAccess(deps.metricsToken);
    app.get('/metrics', async (request, reply) => {
      // Without a token nobody elsewhere can ever be let in: the address answers as if nothing were there.
      // With one, a 401 names the scheme so that a scraper with a wrong or missing token says what is wrong.
      const verdict = access(request);
      if (verdict === 'hidden') return reply.callNotFound();
      if (verdict === 'unauthorized')
        return reply
          .code(401)
          .header('WWW-Authenticate', 'Bearer realm="metrics"')
          .type('text/plain; charset=utf-8')
          .send('Unauthorized\n');
      return reply
        .header('Cache-Control', 'no-store')
        .type(register.contentType)
        .send(await register.metrics());
    });
  }
}
