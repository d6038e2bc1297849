// The web service as `cra start web` builds it, listening on loopback in its own process; and its baseline, a bare
// fastify route with the same logger, serving fixed bytes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { commandClient } from '../../platform/commandClient.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { buildWebApp } from '../../web/app.ts';
import { benchLogger, connect, type Connected, type Place } from '../lib/world.ts';

let connected: Connected | undefined;
let app: FastifyInstance | undefined;

async function listen(server: FastifyInstance): Promise<string> {
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

export async function start(place: Place, secret: string): Promise<string> {
  connected = await connect(place, 'bench-web');
  const { nc, ns, pool, personal, store } = connected;
  app = await buildWebApp({
    send: commandClient(nc, ns),
    personal,
    log: store,
    pool,
    schema: place.schema,
    secret,
    publicUrl: 'http://localhost:7007',
    logger: benchLogger(),
    natsIsConnected: () => !nc.isClosed(),
    metrics: createMetrics(),
  });
  return listen(app);
}

/** Fastify with nothing but one route answering the given bytes; the same logger and server options as the web app. */
export async function startBare(body: string, contentType: string): Promise<string> {
  app = Fastify({ loggerInstance: benchLogger().child({ service: 'web' }) as FastifyBaseLogger, bodyLimit: 64 * 1024 });
  const bytes = Buffer.from(body);
  app.get('/alerts', (_request, reply) => reply.type(contentType).send(bytes));
  return listen(app);
}

export async function stop(): Promise<void> {
  await app?.close();
  await connected?.close();
}
