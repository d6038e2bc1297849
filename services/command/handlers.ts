import { randomUUID } from 'node:crypto';
import { subjects, type CommandName, type CommandPayload, type CommandReply, type EnvelopeMeta, type Namespace } from '../../events/index.ts';
import type { EventStore } from '../../platform/eventStore/index.ts';
import { rateLimitDefaults, type RateLimit } from '../../platform/rateLimits.ts';
import { linkToken, newNonce, tokenHash, tokenUserId } from '../../platform/tokens.ts';
import { decideAndAppend } from './aggregate.ts';
import { deleteAlert, evolveAlert, initialAlertState, setAlert } from './alert/alertDecider.ts';
import { hashPassword, passwordMatches } from './passwords.ts';
import type { Decision } from './decision.ts';
import * as user from './user/userDecisions.ts';
import { evolveUser, initialUserState, userIdFor, type UserState } from './user/userState.ts';

export type HandlerDeps = {
  store: EventStore;
  ns: Namespace;
  linkSecret: Buffer;
  now: () => Date;
  /** argon2id by default; tests pass a counting one to see when a hash is paid for. */
  hashPassword?: (password: string) => Promise<string>;
  /** Link emails (verification, resend, reset) one account may be sent per window (RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT). */
  linkEmailLimit?: RateLimit;
};
export type CommandContext = { commandId: string; meta: EnvelopeMeta };
type Handler<N extends CommandName> = (payload: CommandPayload<N>, deps: HandlerDeps, ctx: CommandContext) => Promise<CommandReply>;

function onUser(deps: HandlerDeps, ctx: CommandContext, userId: string, decide: (state: UserState) => Decision | Promise<Decision>) {
  return decideAndAppend({
    store: deps.store,
    subject: subjects.user(deps.ns, userId),
    initialState: initialUserState,
    evolve: evolveUser,
    decide,
    ...ctx,
  });
}

function issue(deps: HandlerDeps, purpose: 'verify' | 'reset', userId: string) {
  const nonce = newNonce();
  return { nonce, tokenHash: tokenHash(linkToken(deps.linkSecret, purpose, userId, nonce)) };
}

const linkEmailContext = (deps: HandlerDeps) => ({ now: deps.now(), linkEmailLimit: deps.linkEmailLimit ?? rateLimitDefaults.linkEmailsPerAccount });

const invalidToken: CommandReply = { ok: false, error: 'TOKEN_INVALID', message: 'This link is not valid' };

/** One handler per command: prepare what needs I/O or secrets (hashes, tokens), then a pure decision. */
export const handlers: { [N in CommandName]: Handler<N> } = {
  RequestRegistration: async (p, deps, ctx) => {
    const userId = userIdFor(p.username);
    const passwordHash = await (deps.hashPassword ?? hashPassword)(p.password);
    return onUser(deps, ctx, userId, async (state) => {
      const repeated = state.status === 'pending' && state.email === p.email && (await passwordMatches(state.passwordHash, p.password));
      return user.requestRegistration({ userId, username: p.username, email: p.email, passwordHash, repeated, ...issue(deps, 'verify', userId) }, state, { now: deps.now() });
    });
  },
  ResendVerification: (p, deps, ctx) => {
    const userId = userIdFor(p.username);
    return onUser(deps, ctx, userId, (state) => user.resendVerification(issue(deps, 'verify', userId), state, linkEmailContext(deps)));
  },
  VerifyRegistration: async (p, deps, ctx) => {
    const userId = tokenUserId(p.token);
    if (!userId) return invalidToken;
    return onUser(deps, ctx, userId, (state) => user.verifyRegistration({ tokenHash: tokenHash(p.token) }, state, { now: deps.now() }));
  },
  LogIn: (p, deps, ctx) =>
    onUser(deps, ctx, userIdFor(p.username), async (state) => {
      const matches = await passwordMatches(state.status === 'registered' ? state.passwordHash : undefined, p.password);
      return user.logIn({ passwordMatches: matches, sessionId: randomUUID() }, state, { now: deps.now() });
    }),
  LogOut: (p, deps, ctx) => onUser(deps, ctx, p.userId, (state) => user.logOut({ sessionId: p.sessionId }, state)),
  RequestPasswordReset: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) => user.requestPasswordReset(issue(deps, 'reset', p.userId), state, linkEmailContext(deps))),
  ResetPassword: async (p, deps, ctx) => {
    const userId = tokenUserId(p.token);
    if (!userId) return invalidToken;
    const link = { tokenHash: tokenHash(p.token) };
    // Hashed only once the link is known good, and once even if a concurrent change makes the decision run again.
    let passwordHash: Promise<string> | undefined;
    return onUser(deps, ctx, userId, async (state) => {
      const context = { now: deps.now() };
      const refused = user.resetLinkRefusal(link, state, context);
      if (refused) return refused;
      passwordHash ??= (deps.hashPassword ?? hashPassword)(p.password);
      return user.resetPassword({ ...link, passwordHash: await passwordHash }, state, context);
    });
  },
  PauseAlertEmails: (p, deps, ctx) => onUser(deps, ctx, p.userId, (state) => user.setAlertEmails(true, state)),
  ResumeAlertEmails: (p, deps, ctx) => onUser(deps, ctx, p.userId, (state) => user.setAlertEmails(false, state)),
  SetAlert: (p, deps, ctx) =>
    decideAndAppend({ store: deps.store, subject: subjects.alert(deps.ns, p.alertId), initialState: initialAlertState, evolve: evolveAlert, decide: (s) => setAlert(p, s), expectNew: true, ...ctx }),
  DeleteAlert: (p, deps, ctx) =>
    decideAndAppend({ store: deps.store, subject: subjects.alert(deps.ns, p.alertId), initialState: initialAlertState, evolve: evolveAlert, decide: (s) => deleteAlert(p, s), ...ctx }),
};
