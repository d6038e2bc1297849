import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Email, LinkToken, LoginPassword, Password, Username } from '../../events/index.ts';
import type { Html } from '../../platform/html.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import type { WebDeps } from '../deps.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { messagePage, notice } from '../shared/layout.ts';
import {
  emailLinksPerClient,
  emailsPerAddress,
  limiter,
  passwordGuesses,
  rateLimitsOf,
  tokenLinksPerClient,
} from '../shared/limiter.ts';
import { sendRefusal, tooManyAttempts, type Refused } from '../shared/refusals.ts';
import { parseForm, redirectAfterPost, sendPage, typed } from '../shared/respond.ts';
import { workAfterAnswer } from './afterAnswer.ts';
import { registeredUserIdsByEmail } from './queries.ts';
import * as views from './views.ts';

const RegisterForm = z.object({ username: Username, email: Email, password: Password });
const LoginForm = z.object({
  username: z.string().trim().min(1, 'Enter your username').max(64, 'That username is too long'),
  password: LoginPassword,
});
const ResendForm = z.object({ username: Username });
const ForgotForm = z.object({ email: Email });
const ResetForm = z.object({ token: LinkToken, password: Password });

/**
 * The username a login is for, normalised exactly as the login sends it (and as the user id is derived from it), or
 * undefined when no account can have it. The per-username limit keys on this too, so no spelling escapes it.
 */
function loginUsername(body: unknown): string | undefined {
  const parsed = Username.safeParse(
    body && typeof body === 'object' ? (body as Record<string, unknown>).username : undefined,
  );
  return parsed.success ? parsed.data : undefined;
}

/** NATS is known to be down: say so now rather than promise an email that cannot be sent. */
const unavailable: Refused = { ok: false, error: 'UNAVAILABLE', message: 'NATS is not connected' };
/** A username no account can have: refused as a wrong password is, without asking. */
const noSuchAccount: Refused = {
  ok: false,
  error: 'INVALID_CREDENTIALS',
  message: 'no account can have this username',
};

/** A form's view (its whole page, or the form alone) with what was typed and the errors beside the fields. */
type FormView = (csrf: string, values: Record<string, string>, errors?: FieldErrors) => Html;

/** A form's page shown again with errors beside its fields: the whole page, or the form alone when htmx asked. */
const formAgain =
  (
    request: FastifyRequest,
    reply: FastifyReply,
    title: string,
    views: { page: (errors: FieldErrors) => Html; form: (errors: FieldErrors) => Html },
  ) =>
  (errors: FieldErrors, status: number) =>
    sendPage(request, reply, { status, title, body: views.page(errors), fragment: views.form(errors) });

// Only a plain path of this site: no scheme, no //host, nothing a Location header cannot carry.
const safeNext = (next: unknown) =>
  typeof next === 'string' && /^\/[a-z][A-Za-z0-9/_.~%?=&-]*$/.test(next) ? next : '/alerts';
/** The `next` of the login page's address, when it is one a login may go to. */
const nextOf = (request: FastifyRequest) => {
  const next = safeNext((request.query as Record<string, unknown>).next);
  return next === '/alerts' ? undefined : next;
};

/** Registering and verifying, logging in and out, and the forms that email a link (resend, forgot) or take one (reset). */
export async function accountRoutes(app: FastifyInstance, deps: WebDeps) {
  const limits = rateLimitsOf(deps);
  const afterAnswer = workAfterAnswer(app);
  const guesses = passwordGuesses(app, deps);
  const loginPerClient = guesses.perClient;
  const loginPerUsername = guesses.perUsername((r) => loginUsername(r.body));
  const registerPerClient = limiter(app, 'register-client', limits.registerPerClient, (r) => r.ip);
  const emailLinks = emailLinksPerClient(app, deps);
  const tokenLinks = tokenLinksPerClient(app, deps);
  const addressLimit = emailsPerAddress(app, deps);

  app.get('/register', (request, reply) =>
    sendPage(request, reply, { title: 'Register', body: views.registerPage(reply.csrfToken()) }),
  );
  app.post('/register', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { username: typed(request.body, 'username'), email: typed(request.body, 'email') };
    const again = formAgain(request, reply, 'Register', {
      page: (e) => views.registerPage(csrf, values, e),
      form: (e) => views.registerForm(csrf, values, e),
    });
    const form = parseForm(RegisterForm, request.body);
    if (!form.ok) return again(form.errors, 422);
    const limited = (await registerPerClient(request, reply)) ?? (await addressLimit(request, reply));
    if (limited) return again({ form: limited }, 429);
    const result = await request.sendCommand('RequestRegistration', form.data);
    if (!result.ok) return sendRefusal(request, reply, result, 'registerForm', again);
    return sendPage(request, reply, {
      title: 'Check your email',
      body: views.checkEmailPage(`We sent a verification link to ${form.data.email}. Follow it to finish registering.`),
      fragment: notice('good', `We sent a verification link to ${form.data.email}. Follow it to finish registering.`),
    });
  });

  /**
   * A form that asks for a link by email: limited per client, and the same answer, as fast, whether or not an account
   * matches (no account enumeration), so `work` runs once the answer has gone out.
   */
  const linkByEmailForm = <S extends z.ZodType>(options: {
    path: string;
    title: string;
    schema: S;
    field: string;
    views: { page: FormView; form: FormView };
    answer: string;
    work: (request: FastifyRequest, data: z.infer<S>) => Promise<void>;
  }) => {
    app.get(options.path, (request, reply) =>
      sendPage(request, reply, { title: options.title, body: options.views.page(reply.csrfToken(), {}) }),
    );
    app.post(options.path, async (request, reply) => {
      const csrf = reply.csrfToken();
      const values = { [options.field]: typed(request.body, options.field) };
      const again = formAgain(request, reply, options.title, {
        page: (e) => options.views.page(csrf, values, e),
        form: (e) => options.views.form(csrf, values, e),
      });
      const form = parseForm(options.schema, request.body);
      if (!form.ok) return again(form.errors, 422);
      // A form naming an address (forgot password) also counts against that address, from any client.
      const limited = (await emailLinks(request, reply)) ?? (await addressLimit(request, reply));
      if (limited) return again({ form: limited }, 429);
      if (deps.natsIsConnected?.() === false) return sendRefusal(request, reply, unavailable);
      afterAnswer(request, reply, () => options.work(request, form.data));
      return sendPage(request, reply, {
        title: 'Check your email',
        body: views.checkEmailPage(options.answer),
        fragment: notice('good', options.answer),
      });
    });
  };

  linkByEmailForm({
    path: '/register/resend',
    title: 'Resend link',
    schema: ResendForm,
    field: 'username',
    views: { page: views.resendPage, form: views.resendForm },
    answer: 'If that username has a pending registration, a new verification link is on its way.',
    work: async (request, data) => {
      const result = await request.sendCommand('ResendVerification', data);
      if (!result.ok && result.error === 'UNAVAILABLE')
        request.log.warn({ reason: result.message }, 'resending a verification link failed');
    },
  });

  /** The token of a followed emailed link; undefined once the page saying why it cannot be followed is sent. */
  const followedToken = async (
    request: FastifyRequest,
    reply: FastifyReply,
    link: 'verification' | 'reset',
  ): Promise<string | undefined> => {
    const token = LinkToken.safeParse((request.query as Record<string, unknown>).token).data;
    if (token === undefined) {
      const text = `This ${link} link is not valid. Copy the whole link from the email.`;
      await sendPage(request, reply, {
        status: 400,
        title: 'Link not valid',
        body: messagePage('Link not valid', text),
      });
      return undefined;
    }
    const limited = await tokenLinks(request, reply);
    if (limited) await tooManyAttempts(request, reply, limited);
    return limited ? undefined : token;
  };

  app.get('/verify', async (request, reply) => {
    const token = await followedToken(request, reply, 'verification');
    if (token === undefined) return reply;
    const result = await request.sendCommand('VerifyRegistration', { token });
    if (result.ok) {
      await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
      return sendPage(request, reply, {
        title: 'Registered',
        body: views.loginPage(
          reply.csrfToken(),
          {},
          {},
          notice('good', 'Your account is ready. Log in to set your first alert.'),
        ),
      });
    }
    return sendRefusal(request, reply, result, 'verificationLink');
  });

  app.get('/login', (request, reply) => {
    const next = nextOf(request);
    if (request.account) return reply.redirect(next ?? '/alerts', 303);
    return sendPage(request, reply, { title: 'Log in', body: views.loginPage(reply.csrfToken(), { next }) });
  });
  app.post('/login', async (request, reply) => {
    const csrf = reply.csrfToken();
    const values = { username: typed(request.body, 'username'), next: nextOf(request) };
    const again = formAgain(request, reply, 'Log in', {
      page: (e) => views.loginPage(csrf, values, e),
      form: (e) => views.loginForm(csrf, values, e),
    });
    const form = parseForm(LoginForm, request.body);
    if (!form.ok) return again(form.errors, 422);
    const limited = (await loginPerClient(request, reply)) ?? (await loginPerUsername(request, reply));
    if (limited) return again({ form: limited }, 429);
    const username = loginUsername(request.body);
    const result = username
      ? await request.sendCommand('LogIn', { username, password: form.data.password })
      : noSuchAccount;
    if (!result.ok) return sendRefusal(request, reply, result, 'loginForm', again);
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    await reply.startSession({
      userId: result.result.userId!,
      sessionId: result.result.sessionId!,
      username: username!, // a login is sent only for a username an account can have
    });
    return redirectAfterPost(request, reply, safeNext((request.query as Record<string, unknown>).next));
  });

  app.post('/logout', async (request, reply) => {
    if (request.account) {
      const result = await request.sendCommand('LogOut', {
        userId: request.account.userId,
        sessionId: request.account.sessionId,
      });
      if (!result.ok) return sendRefusal(request, reply, result);
      await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    }
    reply.endSession();
    return redirectAfterPost(request, reply, '/login');
  });

  linkByEmailForm({
    path: '/password/forgot',
    title: 'Reset password',
    schema: ForgotForm,
    field: 'email',
    views: { page: views.forgotPage, form: views.forgotForm },
    answer: 'If an account uses that address, a password reset link is on its way. It is valid for one hour.',
    work: async (request, data) => {
      for (const userId of await registeredUserIdsByEmail(deps.pool, deps.schema, {
        address: data.email,
        lookup: deps.personal.lookup('email', data.email),
      })) {
        const result = await request.sendCommand('RequestPasswordReset', { userId });
        if (!result.ok && result.error === 'UNAVAILABLE')
          request.log.warn({ reason: result.message }, 'requesting a password reset failed');
      }
    },
  });

  app.get('/password/reset', async (request, reply) => {
    const token = await followedToken(request, reply, 'reset');
    if (token === undefined) return reply;
    return sendPage(request, reply, { title: 'New password', body: views.resetPage(reply.csrfToken(), token) });
  });
  app.post('/password/reset', async (request, reply) => {
    const csrf = reply.csrfToken();
    const token = typed(request.body, 'token');
    const again = formAgain(request, reply, 'New password', {
      page: (e) => views.resetPage(csrf, token, e),
      form: (e) => views.resetForm(csrf, token, e),
    });
    const form = parseForm(ResetForm, request.body);
    if (!form.ok) return again(form.errors.token ? { form: 'This reset link is not valid.' } : form.errors, 422);
    const limited = await tokenLinks(request, reply);
    if (limited) return again({ form: limited }, 429);
    const result = await request.sendCommand('ResetPassword', form.data);
    if (!result.ok) return sendRefusal(request, reply, result, 'passwordResetForm', again);
    await waitForProjection(deps.pool, deps.schema, result.seq, deps.projectionWaitMs);
    reply.endSession();
    // The login form below belongs to the guest this browser now is: its token comes from the renewed secret.
    return sendPage(request, reply, {
      title: 'Password changed',
      body: views.loginPage(
        reply.csrfToken(),
        {},
        {},
        notice('good', 'Your password was changed and every session was ended. Log in with the new password.'),
      ),
    });
  });
}
