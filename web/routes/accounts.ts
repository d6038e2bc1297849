import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Email, LinkToken, LoginPassword, Password, Username } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { workAfterAnswer } from '../afterAnswer.ts';
import type { WebDeps } from '../deps.ts';
import { parseForm, redirectAfterPost, sendPage, typed } from '../respond.ts';
import { registeredUserIdsByEmail } from '../readModels.ts';
import * as views from '../views/accounts.ts';
import { notice } from '../views/layout.ts';
import { commandFailed, limiter, rateLimitsOf, tooManyAttempts } from './guards.ts';

const RegisterForm = z.object({ username: Username, email: Email, password: Password });
const LoginForm = z.object({ username: z.string().trim().min(1, 'Enter your username').max(64, 'That username is too long'), password: LoginPassword });
const ResendForm = z.object({ username: Username });
const ForgotForm = z.object({ email: Email });
const ResetForm = z.object({ token: LinkToken, password: Password });

/**
 * The username a login is for, normalised exactly as the login sends it (and as the user id is derived from it), or
 * undefined when no account can have it. The per-username limit keys on this too, so no spelling escapes it.
 */
function loginUsername(body: unknown): string | undefined {
  const parsed = Username.safeParse(body && typeof body === 'object' ? (body as Record<string, unknown>).username : undefined);
  return parsed.success ? parsed.data : undefined;
}

/** NATS is known to be down: say so now rather than promise an email that cannot be sent. */
const unavailable = { ok: false, error: 'UNAVAILABLE', message: 'NATS is not connected' } as const;

// Only a plain path of this site: no scheme, no //host, nothing a Location header cannot carry.
const safeNext = (next: unknown) => (typeof next === 'string' && /^\/[a-z][A-Za-z0-9/_.~%?=&-]*$/.test(next) ? next : '/alerts');

export async function accountRoutes(app: FastifyInstance, deps: WebDeps) {
  const limits = rateLimitsOf(deps);
  const afterAnswer = workAfterAnswer(app);
  const loginPerClient = limiter(app, 'login-client', limits.loginPerClient, (r) => r.ip);
  const loginPerUsername = limiter(app, 'login-user', limits.loginPerUsername, (r) => loginUsername(r.body));
  const registerPerClient = limiter(app, 'register-client', limits.registerPerClient, (r) => r.ip);
  const emailLinksPerClient = limiter(app, 'email-links', limits.emailLinksPerClient, (r) => r.ip);
  // Every route that takes an emailed token, here and in unsubscribe.ts: one budget per client.
  const tokenLinksPerClient = limiter(app, 'token-links', limits.tokenLinksPerClient, (r) => r.ip);

  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ReturnType<typeof views.registerPage>, fragment?: ReturnType<typeof views.registerForm>, status = 200) =>
    sendPage(request, reply, { status, title, body, ...(fragment ? { fragment } : {}) });

  app.get('/register', (request, reply) => page(request, reply, 'Register', views.registerPage(reply.csrfToken())));
  app.post('/register', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { username: typed(request.body, 'username'), email: typed(request.body, 'email') };
    const form = parseForm(RegisterForm, request.body);
    if (!form.ok) return page(request, reply, 'Register', views.registerPage(csrf, values, form.errors), views.registerForm(csrf, values, form.errors), 422);
    const limited = await registerPerClient(request, reply);
    if (limited) return page(request, reply, 'Register', views.registerPage(csrf, values, { form: limited }), views.registerForm(csrf, values, { form: limited }), 429);
    const result = await request.sendCommand('RequestRegistration', form.data);
    if (!result.ok) {
      if (result.error === 'USERNAME_TAKEN') {
        const errors = { username: 'That username is taken' };
        return page(request, reply, 'Register', views.registerPage(csrf, values, errors), views.registerForm(csrf, values, errors), 422);
      }
      return commandFailed(request, reply, result);
    }
    return sendPage(request, reply, { title: 'Check your email', body: views.checkEmailPage(`We sent a verification link to ${form.data.email}. Follow it to finish registering.`), fragment: notice('good', `We sent a verification link to ${form.data.email}. Follow it to finish registering.`) });
  });

  app.get('/register/resend', (request, reply) => page(request, reply, 'Resend link', views.resendPage(reply.csrfToken())));
  app.post('/register/resend', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { username: typed(request.body, 'username') };
    const form = parseForm(ResendForm, request.body);
    if (!form.ok) return page(request, reply, 'Resend link', views.resendPage(csrf, values, form.errors), views.resendForm(csrf, values, form.errors), 422);
    const limited = await emailLinksPerClient(request, reply);
    if (limited) return page(request, reply, 'Resend link', views.resendPage(csrf, values, { form: limited }), views.resendForm(csrf, values, { form: limited }), 429);
    if (deps.natsIsConnected?.() === false) return commandFailed(request, reply, unavailable);
    // The same answer, as fast, whether or not a registration is pending: no account enumeration.
    afterAnswer(request, reply, async () => {
      const result = await request.sendCommand('ResendVerification', form.data);
      if (!result.ok && result.error === 'UNAVAILABLE') request.log.warn({ reason: result.message }, 'resending a verification link failed');
    });
    const text = 'If that username has a pending registration, a new verification link is on its way.';
    return sendPage(request, reply, { title: 'Check your email', body: views.checkEmailPage(text), fragment: notice('good', text) });
  });

  app.get('/verify', async (request, reply) => {
    const token = LinkToken.safeParse((request.query as Record<string, unknown>).token).data;
    if (token === undefined) {
      return sendPage(request, reply, { status: 400, title: 'Link not valid', body: views.messagePage('Link not valid', 'This verification link is not valid. Copy the whole link from the email.') });
    }
    const limited = await tokenLinksPerClient(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    const result = await request.sendCommand('VerifyRegistration', { token });
    if (result.ok) {
      await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
      return sendPage(request, reply, { title: 'Registered', body: views.loginPage(reply.csrfToken(), {}, {}, notice('good', 'Your account is ready. Log in to set your first alert.')) });
    }
    const answers: Partial<Record<string, [number, string, string]>> = {
      TOKEN_USED: [410, 'Link already used', 'This link was already used. Your account is registered: log in.'],
      TOKEN_EXPIRED: [410, 'Link expired', 'This verification link has expired. Register again, or ask for a new link.'],
      TOKEN_INVALID: [400, 'Link not valid', 'This verification link is not valid. Copy the whole link from the email.'],
      INVALID_COMMAND: [400, 'Link not valid', 'This verification link is not valid. Copy the whole link from the email.'],
    };
    const answer = answers[result.error];
    if (!answer) return commandFailed(request, reply, result);
    const [status, title, text] = answer;
    return sendPage(request, reply, { status, title, body: views.messagePage(title, text, { href: result.error === 'TOKEN_USED' ? '/login' : '/register/resend', label: result.error === 'TOKEN_USED' ? 'Log in' : 'Send a new link' }) });
  });

  app.get('/login', (request, reply) => {
    if (request.account) return reply.redirect('/alerts', 303);
    return page(request, reply, 'Log in', views.loginPage(reply.csrfToken()));
  });
  app.post('/login', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { username: typed(request.body, 'username') };
    const form = parseForm(LoginForm, request.body);
    if (!form.ok) return page(request, reply, 'Log in', views.loginPage(csrf, values, form.errors), views.loginForm(csrf, values, form.errors), 422);
    const limited = (await loginPerClient(request, reply)) ?? (await loginPerUsername(request, reply));
    if (limited) return page(request, reply, 'Log in', views.loginPage(csrf, values, { form: limited }), views.loginForm(csrf, values, { form: limited }), 429);
    const username = loginUsername(request.body);
    const result = username ? await request.sendCommand('LogIn', { username, password: form.data.password }) : undefined;
    if (!result || (!result.ok && result.error === 'INVALID_COMMAND') || (!result.ok && result.error === 'INVALID_CREDENTIALS')) {
      const errors = { form: 'Wrong username or password' };
      return page(request, reply, 'Log in', views.loginPage(csrf, values, errors), views.loginForm(csrf, values, errors), 401);
    }
    if (!result.ok) return commandFailed(request, reply, result);
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    await reply.startSession({ userId: result.result.userId!, sessionId: result.result.sessionId!, username: result.result.username! });
    return redirectAfterPost(request, reply, safeNext((request.query as Record<string, unknown>).next));
  });

  app.post('/logout', async (request, reply) => {
    if (request.account) {
      const result = await request.sendCommand('LogOut', { userId: request.account.userId, sessionId: request.account.sessionId });
      if (!result.ok) return commandFailed(request, reply, result);
      await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    }
    reply.endSession();
    return redirectAfterPost(request, reply, '/login');
  });

  app.get('/password/forgot', (request, reply) => page(request, reply, 'Reset password', views.forgotPage(reply.csrfToken())));
  app.post('/password/forgot', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { email: typed(request.body, 'email') };
    const form = parseForm(ForgotForm, request.body);
    if (!form.ok) return page(request, reply, 'Reset password', views.forgotPage(csrf, values, form.errors), views.forgotForm(csrf, values, form.errors), 422);
    const limited = await emailLinksPerClient(request, reply);
    if (limited) return page(request, reply, 'Reset password', views.forgotPage(csrf, values, { form: limited }), views.forgotForm(csrf, values, { form: limited }), 429);
    if (deps.natsIsConnected?.() === false) return commandFailed(request, reply, unavailable);
    // The same answer, as fast, whether or not an account has this address: no account enumeration.
    afterAnswer(request, reply, async () => {
      for (const userId of await registeredUserIdsByEmail(deps.pool, deps.schema, form.data.email)) {
        const result = await request.sendCommand('RequestPasswordReset', { userId });
        if (!result.ok && result.error === 'UNAVAILABLE') request.log.warn({ reason: result.message }, 'requesting a password reset failed');
      }
    });
    const text = 'If an account uses that address, a password reset link is on its way. It is valid for one hour.';
    return sendPage(request, reply, { title: 'Check your email', body: views.checkEmailPage(text), fragment: notice('good', text) });
  });

  app.get('/password/reset', async (request, reply) => {
    const token = LinkToken.safeParse((request.query as Record<string, unknown>).token).data;
    if (token === undefined) {
      return sendPage(request, reply, { status: 400, title: 'Link not valid', body: views.messagePage('Link not valid', 'This reset link is not valid. Copy the whole link from the email.') });
    }
    const limited = await tokenLinksPerClient(request, reply);
    if (limited) return tooManyAttempts(request, reply, limited);
    return page(request, reply, 'New password', views.resetPage(reply.csrfToken(), token));
  });
  app.post('/password/reset', async (request, reply) => {
    const csrf = reply.csrfToken();
    const token = typed(request.body, 'token');
    const form = parseForm(ResetForm, request.body);
    if (!form.ok) {
      const errors = form.errors.token ? { form: 'This reset link is not valid.' } : form.errors;
      return page(request, reply, 'New password', views.resetPage(csrf, token, errors), views.resetForm(csrf, token, errors), 422);
    }
    const limited = await tokenLinksPerClient(request, reply);
    if (limited) return page(request, reply, 'New password', views.resetPage(csrf, token, { form: limited }), views.resetForm(csrf, token, { form: limited }), 429);
    const result = await request.sendCommand('ResetPassword', form.data);
    if (!result.ok) {
      const texts: Partial<Record<string, string>> = {
        TOKEN_USED: 'This reset link was already used. Ask for a new one.',
        TOKEN_EXPIRED: 'This reset link has expired. Ask for a new one.',
        TOKEN_INVALID: 'This reset link is not valid. Ask for a new one.',
        INVALID_COMMAND: 'This reset link is not valid. Ask for a new one.',
      };
      const text = texts[result.error];
      if (!text) return commandFailed(request, reply, result);
      return page(request, reply, 'New password', views.resetPage(csrf, token, { form: text }), views.resetForm(csrf, token, { form: text }), result.error === 'TOKEN_INVALID' || result.error === 'INVALID_COMMAND' ? 400 : 410);
    }
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    reply.endSession();
    // The login form below belongs to the guest this browser now is: its token comes from the renewed secret.
    return sendPage(request, reply, { title: 'Password changed', body: views.loginPage(reply.csrfToken(), {}, {}, notice('good', 'Your password was changed and every session was ended. Log in with the new password.')) });
  });
}
