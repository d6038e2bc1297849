import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyJwt from '@fastify/jwt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isSessionOpen } from '../readModels.ts';
import type { WebDeps } from '../deps.ts';

export const SESSION_COOKIE = 'cra_session';
const SESSION_DAYS = 7;

export type Account = { userId: string; sessionId: string; username: string };
type SessionClaims = { sub: string; sid: string; name: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** The logged-in account, once its cookie verified and its session is still open in the read model. */
    account: Account | null;
  }
  interface FastifyReply {
    /** This request's CSRF token: made once per request, since each new secret replaces the cookie. */
    csrfToken(): string;
    startSession(account: Account): Promise<void>;
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
    });
    await app.register(fastifyCsrf, {
      sessionPlugin: '@fastify/cookie',
      cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure },
      getToken: (req: FastifyRequest) => {
        const body = req.body as Record<string, unknown> | undefined;
        const fromBody = body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined;
        const header = req.headers['x-csrf-token'];
        return fromBody ?? (typeof header === 'string' ? header : undefined);
      },
    });

    app.decorateRequest('account', null);
    app.addHook('onRequest', async (request) => {
      if (!request.cookies[SESSION_COOKIE]) return;
      let claims: SessionClaims;
      try {
        claims = await request.jwtVerify<SessionClaims>();
      } catch {
        return; // tampered, expired or wrongly signed: treated as logged out
      }
      if (await isSessionOpen(deps.pool, deps.schema, claims.sid, claims.sub)) {
        request.account = { userId: claims.sub, sessionId: claims.sid, username: claims.name };
      }
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
        token = this.generateCsrf();
        tokens.set(this, token);
      }
      return token;
    });

    app.decorateReply('startSession', async function (this: FastifyReply, account: Account) {
      const token = await this.jwtSign({ sub: account.userId, sid: account.sessionId, name: account.username });
      this.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: SESSION_DAYS * 86_400 });
    });
    app.decorateReply('endSession', function (this: FastifyReply) {
      this.clearCookie(SESSION_COOKIE, { path: '/' });
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
