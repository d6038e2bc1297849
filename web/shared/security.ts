import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { html } from '../../platform/html.ts';
import { page } from './layout.ts';
import { securityHeaders, securityOptions } from './securityHeaders.ts';

/** Postgres or NATS cannot be reached right now: a clear 503, not a 500. */
function isOutage(error: Error & { code?: string }): boolean {
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|57P0[1-3]|08\d{3})$/.test(error.code ?? '') ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection closed/i.test(
      error.message,
    )
  );
}

/** Strict CSP (scripts only from our origin, no inline), security headers, and error pages without internals. */
export const securityPlugin = fp(
  async (app: FastifyInstance, options: { publicUrl: string }) => {
    const headers = securityHeaders(securityOptions(options.publicUrl));
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });

    app.setNotFoundHandler((request, reply) => {
      reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send(
          page(
            'Not found',
            { csrfToken: '' },
            html`<h1>Not found</h1><p>There is nothing at this address.</p><p><a href="/">Go home</a></p>`,
          ).value,
        );
      void request;
    });

    app.setErrorHandler(
      (error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
        const status = isOutage(error)
          ? 503
          : error.statusCode && error.statusCode >= 400 && error.statusCode < 600
            ? error.statusCode
            : 500;
        const messages: Record<number, [string, string]> = {
          400: ['Bad request', 'The request could not be read. Go back and try again.'],
          403: ['Form expired', 'This form has expired or did not come from this site. Reload the page and try again.'],
          404: ['Not found', 'There is nothing at this address.'],
          413: ['Too large', 'That request is too large.'],
          415: ['Unsupported', 'Send forms as regular web forms.'],
          429: ['Too many attempts', 'Too many attempts. Wait a minute and try again.'],
          503: ['Temporarily unavailable', 'The service is temporarily unavailable. Try again in a moment.'],
        };
        const [title, text] =
          messages[status] ??
          (status >= 500
            ? ['Something went wrong', 'Something went wrong on our side. Try again in a moment.']
            : ['Request refused', 'The request was refused.']);
        if (status === 503) reply.header('Retry-After', '5');
        if (status >= 500) request.log.error({ err: error }, 'request failed');
        else request.log.info({ status, code: error.code, reason: error.message }, 'request refused');
        reply
          .code(status)
          .type('text/html; charset=utf-8')
          .send(
            page(title, { csrfToken: '' }, html`<h1>${title}</h1><p>${text}</p><p><a href="/">Go home</a></p>`).value,
          );
      },
    );
  },
  { name: 'security' },
);
