import { createHmac } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WebDeps } from '../deps.ts';
import { BatchedLookup } from '../../platform/batchedLookup.ts';
import { openSessionVersions, type SessionAsked, type UserPagesVersion } from './openSessions.ts';
import { VerifiedTokens } from './verifiedTokens.ts';

export const SESSION_COOKIE = 'cra_session';
/** Holds the CSRF secret (signed); the tokens made from it are bound to the session too (see csrfIdentity). */
export const CSRF_COOKIE = '_csrf';
/** What a CSRF token is bound to when nobody is logged in; a session id (a UUID) can never equal it. */
const GUEST = 'guest';
const SESSION_DAYS = 7;
/** Session cookies remembered as verified: a few MB at most. */
const VERIFIED_TOKENS_MAX = 10_000;

export type Account = {
  userId: string;
  sessionId: string;
  username: string;
  /** Read with the session check, in the same round trip: keys what was rendered for this user (see RenderedPages). */
  pagesVersion: UserPagesVersion;
};
type SessionClaims = { sub: string; sid: string; name: string; exp?: number };

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in account, once its cookie verified and its session is still open in the read model. */
    account: Account | null;
  }
  interface FastifyReply {
    /** This request's CSRF token, bound to its session: made once per request, since each new secret replaces the cookie. */
    csrfToken(): string;
    startSession(account: Omit<Account, 'pagesVersion'>): Promise<void>;
    endSession(): void;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: SessionClaims;
    user: SessionClaims;
  }
}

/** Session cookies (JWT, httpOnly, SameSite=Lax, Secure on https) checked against open sessions; CSRF on every state change. */
export const sessionPlugin = fp(
  async (app: FastifyInstance, deps: WebDeps) => {
    const secure = deps.publicUrl.startsWith('https:');
    await app.register(fastifyCookie, { secret: deps.secret });
    await app.register(fastifyJwt, {
      secret: deps.secret,
      cookie: { cookieName: SESSION_COOKIE, signed: false },
      sign: { expiresIn: `${SESSION_DAYS}d` },
      // The session cookie and nothing else (no Authorization header): the token verified is the one remembered below.
      verify: { extractToken: (request: FastifyRequest) => request.cookies[SESSION_COOKIE] },
    });
    // A CSRF token is valid only with the secret in its cookie AND for the session it was made in: a token (and cookie)
    // taken before a login, or from another user's session, is refused; login and logout also replace the secret.
    const identityOf = new WeakMap<FastifyRequest, string>();
    const csrfIdentity = (request: FastifyRequest) => identityOf.get(request) ?? request.account?.sessionId ?? GUEST;
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: CSRF_COOKIE,
      cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure },
      csrfOpts: {
        userInfo: true,
        hmacKey: createHmac('sha256', deps.secret).update('cra-csrf-session-binding').digest(),
      },
      getUserInfo: csrfIdentity,
      getToken: (req: FastifyRequest) => {
        const body = req.body as Record<string, unknown> | undefined;
        const fromBody = body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined;
        const header = req.headers['x-csrf-token'];
        return fromBody ?? (typeof header === 'string' ? header : undefined);
      },
    });

    // Every request with a session cookie asks whether it is still open, as of after it arrived (a logout or a change
    // shows at once, on every instance); concurrent requests share the round trip.
    const openSessions = new BatchedLookup<SessionAsked, UserPagesVersion | undefined>((asked) =>
      openSessionVersions(deps.pool, deps.schema, asked),
    );
    const verified = new VerifiedTokens<SessionClaims>(VERIFIED_TOKENS_MAX);
    app.decorateRequest('account', null);
    app.addHook('onRequest', async (request) => {
      const token = request.cookies[SESSION_COOKIE];
      if (!token) return;
      let claims = verified.get(token, Date.now());
      if (!claims) {
        try {
          claims = await request.jwtVerify<SessionClaims>();
        } catch {
          return; // tampered, expired or wrongly signed: treated as logged out
        }
        verified.set(token, claims);
      }
      const pagesVersion = await openSessions.lookup({ sessionId: claims.sid, userId: claims.sub });
      if (pagesVersion)
        request.account = { userId: claims.sub, sessionId: claims.sid, username: claims.name, pagesVersion };
    });

    // Every state change carries the CSRF token: the hidden _csrf field, or the x-csrf-token header from htmx.
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return done();
      if ((request.routeOptions.config as { csrf?: boolean } | undefined)?.csrf === false) return done();
      app.csrfProtection(request, reply, done);
    });

    const tokens = new WeakMap<FastifyReply, string>();
    app.decorateReply('csrfToken', function (this: FastifyReply) {
      let token = tokens.get(this);
      if (!token) {
        token = this.generateCsrf({ userInfo: csrfIdentity(this.request) });
        tokens.set(this, token);
      }
      return token;
    });
    /** From now on this browser is `identity`: drop its CSRF secret, so the next page it gets makes a new one. */
    const renewCsrf = (reply: FastifyReply, identity: string) => {
      delete reply.request.cookies[CSRF_COOKIE];
      reply.clearCookie(CSRF_COOKIE, { path: '/' });
      identityOf.set(reply.request, identity);
      tokens.delete(reply);
    };

    app.decorateReply('startSession', async function (this: FastifyReply, account: Omit<Account, 'pagesVersion'>) {
      const token = await this.jwtSign({ sub: account.userId, sid: account.sessionId, name: account.username });
      this.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        secure,
        path: '/',
        maxAge: SESSION_DAYS * 86_400,
      });
      renewCsrf(this, account.sessionId);
    });
    app.decorateReply('endSession', function (this: FastifyReply) {
      this.clearCookie(SESSION_COOKIE, { path: '/' });
      renewCsrf(this, GUEST);
    });
  },
  { name: 'session' },
);

/** Route guard: pages send a guest to the login form; other requests get 401. */
export async function requireAccount(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.account) return;
  if (request.method === 'GET') {
    await reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    return;
  }
  reply.header('HX-Redirect', '/login');
  await reply.code(401).type('text/plain; charset=utf-8').send('Log in first.');
}
