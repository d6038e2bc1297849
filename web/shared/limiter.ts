import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Email } from '../../events/index.ts';
import { rateLimitDefaults, type RateLimit } from '../../platform/rateLimits.ts';
import type { WebDeps } from '../deps.ts';
import { typed } from './respond.ts';

/** The web's rate limits: the configured ones, the defaults for the rest. */
export const rateLimitsOf = (deps: WebDeps) => ({ ...rateLimitDefaults, ...deps.rateLimits });

/**
 * A named rate limit over a request key (client address, username…), counted in the store every web instance
 * shares. Returns the message to show when the limit is exceeded (and sets Retry-After), or undefined when the
 * request may go on; a request without a key (undefined) is not counted.
 */
export function limiter(
  app: FastifyInstance,
  name: string,
  limit: RateLimit,
  key: (request: FastifyRequest) => string | undefined,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string | undefined> => {
    const k = key(request);
    if (k === undefined) return undefined;
    const { exceeded, retryAfterSeconds } = await app.rateLimits.hit(`${name}:${k}`, limit);
    if (!exceeded) return undefined;
    reply.header('Retry-After', String(retryAfterSeconds));
    return `Too many attempts. Try again in ${retryAfterSeconds} seconds.`;
  };
}

/** Requests for a link by email (resend, forgot password, change of address): every form that asks shares this budget. */
export const emailLinksPerClient = (app: FastifyInstance, deps: WebDeps) =>
  limiter(app, 'email-links', rateLimitsOf(deps).emailLinksPerClient, (r) => r.ip);

/** Follows of an emailed link (verify, password reset, unsubscribe): every route that takes one shares this budget. */
export const tokenLinksPerClient = (app: FastifyInstance, deps: WebDeps) =>
  limiter(app, 'token-links', rateLimitsOf(deps).tokenLinksPerClient, (r) => r.ip);

/**
 * Guesses at an account's password: a login, and the current password a password change asks for. Both count
 * against one budget per client address and one per username (as the login normalises it, which is how a session
 * names its account too), so a stolen session guesses the password no faster than the login form lets anyone.
 */
export function passwordGuesses(app: FastifyInstance, deps: WebDeps) {
  const limits = rateLimitsOf(deps);
  return {
    perClient: limiter(app, 'login-client', limits.loginPerClient, (r) => r.ip),
    perUsername: (username: (request: FastifyRequest) => string | undefined) =>
      limiter(app, 'login-user', limits.loginPerUsername, username),
  };
}

/**
 * Requests naming one email address in their `email` field (registration, forgot password, change of address), from any
 * client: one budget per address. The shared counters keep keyed hashes of their keys (rateLimitStore.ts), never the
 * address itself.
 */
export function emailsPerAddress(app: FastifyInstance, deps: WebDeps) {
  return limiter(app, 'emails-address', rateLimitsOf(deps).emailsPerAddress, (r) => {
    const email = Email.safeParse(typed(r.body, 'email'));
    return email.success ? email.data.toLowerCase() : undefined;
  });
}
