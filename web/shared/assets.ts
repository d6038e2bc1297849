import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);

const favicon = readFileSync(new URL('./favicon.svg', import.meta.url));
/** The icon's address names its content, so browsers may keep it for a year and still see a new one at once. */
export const FAVICON_PATH = `/assets/favicon.${createHash('sha256').update(favicon).digest('hex').slice(0, 12)}.svg`;
const A_YEAR = 'public, max-age=31536000, immutable';

/** htmx from the htmx.org package (no CDN), our stylesheet and the icon, cached by the browser. */
export async function assetRoutes(app: FastifyInstance) {
  const htmx = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'));
  const css = readFileSync(new URL('./app.css', import.meta.url));
  app.get('/assets/htmx.min.js', (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(htmx),
  );
  app.get('/assets/app.css', (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(css),
  );
  app.get(FAVICON_PATH, (_request, reply) => reply.type('image/svg+xml').header('Cache-Control', A_YEAR).send(favicon));
  // Where a browser looks when a page names no icon (a JSON answer, a download): the same icon, kept for a day.
  app.get('/favicon.ico', (_request, reply) =>
    reply.type('image/svg+xml').header('Cache-Control', 'public, max-age=86400').send(favicon),
  );
}
