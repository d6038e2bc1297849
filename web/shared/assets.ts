import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

/** htmx from the htmx.org package (no CDN) and our stylesheet, cached by the browser. */
export async function assetRoutes(app: FastifyInstance) {
  const htmx = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
  const css = readFileSync(new URL('./app.css', import.meta.url));
  app.get('/assets/htmx.min.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(htmx),
  );
  app.get('/assets/app.css', (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(css),
  );
}
