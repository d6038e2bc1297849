import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommandReply } from '../../events/index.ts';
import { rateLimitDefaults, type RateLimit } from '../../platform/rateLimits.ts';
import type { WebDeps } from '../deps.ts';
import { sendPage } from '../respond.ts';
import { messagePage } from '../views/accounts.ts';

/** The web's rate limits: the configured ones, the defaults for the rest. */
export const rateLimitsOf = (deps: WebDeps) => ({ ...rateLimitDefaults, ...deps.rateLimits });

/**
 * A named rate limit over a request key (client address, username…), counted in the store every web instance
 * shares. Returns the message to show when the limit is exceeded (and sets Retry-After), or undefined when the
 * request may go on; a request without a key (undefined) is not counted.
 */
export function limiter(app: FastifyInstance, name: string, limit: RateLimit, key: (request: FastifyRequest) => string | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const k = key(request);
    if (k === undefined) return undefined;
    const { exceeded, retryAfterSeconds } = await app.rateLimits.hit(`${name}:${k}`, limit);
    if (!exceeded) return undefined;
    reply.header('Retry-After', String(retryAfterSeconds));
    return `Too many attempts. Try again in ${retryAfterSeconds} seconds.`;
  };
}

/** The page of a refused request that has no form to show the limit beside (a followed link). */
export function tooManyAttempts(request: FastifyRequest, reply: FastifyReply, text: string) {
  return sendPage(request, reply, { status: 429, title: 'Too many attempts', body: messagePage('Too many attempts', text, { href: '/', label: 'Go home' }) });
}

/** The one place a failed command becomes an HTTP answer (field-level errors are handled by each form). */
export function commandFailed(request: FastifyRequest, reply: FastifyReply, result: Extract<CommandReply, { ok: false }>) {
  const [status, title, text] = ((): [number, string, string] => {
    switch (result.error) {
      case 'NOT_FOUND':
        return [404, 'Not found', 'There is nothing here (or it is not yours).'];
      case 'INVALID_COMMAND':
      case 'ALREADY_EXISTS':
      case 'TOO_MANY_ALERTS':
      case 'UNKNOWN_CURRENCY':
        return [400, 'Request refused', 'That request was not valid. Go back and check the form.'];
      case 'USERNAME_TAKEN':
        return [422, 'Username taken', 'That username is taken.'];
      case 'TOKEN_INVALID':
      case 'TOKEN_EXPIRED':
      case 'TOKEN_USED':
        return [400, 'Link not valid', 'That link is not valid any more.'];
      case 'INVALID_CREDENTIALS':
        return [401, 'Log in', 'Wrong username or password.'];
      case 'TOO_MANY_EMAILS':
        return [429, 'Too many emails', 'Too many emails were sent for this account recently. Try again in an hour.'];
      case 'CONFLICT':
      case 'UNAVAILABLE':
        return [503, 'Temporarily unavailable', 'The service is temporarily unavailable. Nothing was changed; try again in a moment.'];
    }
  })();
  if (status === 503) request.log.warn({ error: result.error, reason: result.message }, 'command failed');
  return sendPage(request, reply, { status, title, body: messagePage(title, text, { href: '/', label: 'Go home' }) });
}
