import { randomUUID } from 'node:crypto';
import {
  isAlertEvent,
  isChannelEvent,
  isUserEvent,
  subjects,
  userIdFor,
  type AlertEvent,
  type ChannelEvent,
  type CommandName,
  type CommandPayload,
  type CommandReply,
  type DomainEvent,
  type EnvelopeMeta,
  type Namespace,
  type UserEvent,
} from '../../events/index.ts';
import { decideAndAppend, type EventStore } from '../../platform/eventStore/index.ts';
import type { Pool } from '../../platform/postgres.ts';
import { rateLimitDefaults, type RateLimit } from '../../platform/rateLimits.ts';
import { linkToken, newNonce, tokenHash, tokenUserId, type LinkPurpose } from '../../platform/tokens.ts';
import { alertDecider, type AlertState } from './alert/alertDecider.ts';
import { alertPolicyFacts, type AlertPolicyFactsSource } from './alert/alertPolicyFacts.ts';
import { channelDecider, type ChannelState } from './channel/channelDecider.ts';
import { channelsOf, newWebhookSecret } from './channel/channelFacts.ts';
import type { Decider, Decision } from './decision.ts';
import type { PersonalData } from '../../platform/personalData/index.ts';
import { hashPassword, passwordMatches } from './passwords.ts';
import { passwordChangeRefusal, resetLinkRefusal, sessionRefusal, userDecider } from './user/userDecisions.ts';
import type { UserState } from './user/userState.ts';

export type HandlerDeps = {
  store: EventStore;
  ns: Namespace;
  /** The read models, where SetAlert finds the facts its rules need (alert/alertPolicyFacts.ts). */
  pool: Pool;
  schema: string;
  linkSecret: Buffer;
  /** Seals personal fields under each person's key; derives user ids (platform/personalData). */
  personal: PersonalData;
  now: () => Date;
  /** argon2id by default; tests pass a counting one to see when a hash is paid for. */
  hashPassword?: (password: string) => Promise<string>;
  /** Link emails (verification, resend, reset, email change) one account may be sent per window (RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT). */
  linkEmailLimit?: RateLimit;
};
/** What the handlers run with: the deps, and what the service makes of them once (a batched reader of SetAlert's facts). */
export type ServiceDeps = HandlerDeps & { alertPolicyFacts: AlertPolicyFactsSource };
export const serviceDeps = <D extends HandlerDeps>(deps: D): D & ServiceDeps => ({
  ...deps,
  alertPolicyFacts: alertPolicyFacts(deps.pool, deps.schema, () => deps.now().getTime()),
});

export type CommandContext = { commandId: string; meta: EnvelopeMeta };
type Handler<N extends CommandName> = (
  payload: CommandPayload<N>,
  deps: ServiceDeps,
  ctx: CommandContext,
) => Promise<CommandReply>;

const MAX_ATTEMPTS = 5;

type Decide<S, E extends DomainEvent> = (state: S) => Decision<E> | Promise<Decision<E>>;
type AggregateOptions = { expectNew?: boolean; stored?: (events: readonly DomainEvent[]) => void };

/**
 * Fold the aggregate's own events into its state, decide, append with the expected sequence; a concurrent writer
 * makes it decide again (platform/eventStore/decideAndAppend.ts). The command id is the message id, so a retried
 * command is stored once. `expectNew`: the subject is almost surely new (a fresh id), so decide on the initial state
 * first and read it only on a conflict. `stored`: told of each append that stored something new.
 */
function onAggregate<S, E extends DomainEvent>(
  deps: HandlerDeps,
  ctx: CommandContext,
  subject: string,
  aggregate: Pick<Decider<S, unknown, E>, 'evolve' | 'initialState'> & { accepts: (event: DomainEvent) => event is E },
  decide: Decide<S, E>,
  options: AggregateOptions = {},
): Promise<CommandReply> {
  return decideAndAppend<CommandReply, E>(deps.store, subject, {
    accepts: aggregate.accepts,
    attempts: MAX_ATTEMPTS,
    ...(options.expectNew ? { assumed: { events: [], lastSeq: 0 } } : {}),
    meta: ctx.meta,
    decide: async ({ events, lastSeq }) => {
      const decision = await decide(events.reduce(aggregate.evolve, aggregate.initialState));
      if (!decision.ok) return { answer: decision };
      const result = decision.result ?? {};
      if (decision.events.length === 0) return { answer: { ok: true, seq: lastSeq, result } };
      return {
        append: decision.events,
        msgId: ctx.commandId,
        appended: ({ seq, duplicate }) => {
          if (!duplicate) options.stored?.(decision.events);
          return { ok: true, seq, result };
        },
      };
    },
    exhausted: () => ({ ok: false, error: 'CONFLICT', message: 'Too many concurrent changes; try again' }),
  });
}

const onUser = (deps: HandlerDeps, ctx: CommandContext, userId: string, decide: Decide<UserState, UserEvent>) =>
  onAggregate(deps, ctx, subjects.user(deps.ns, userId), { ...userDecider, accepts: isUserEvent }, decide);

const onAlert = (
  deps: HandlerDeps,
  ctx: CommandContext,
  alertId: string,
  decide: Decide<AlertState, AlertEvent>,
  options: AggregateOptions = {},
) =>
  onAggregate(deps, ctx, subjects.alert(deps.ns, alertId), { ...alertDecider, accepts: isAlertEvent }, decide, options);

const onChannel = (
  deps: HandlerDeps,
  ctx: CommandContext,
  channelId: string,
  decide: Decide<ChannelState, ChannelEvent>,
  options: AggregateOptions = {},
) =>
  onAggregate(
    deps,
    ctx,
    subjects.channel(deps.ns, channelId),
    { ...channelDecider, accepts: isChannelEvent },
    decide,
    options,
  );

function issue(deps: HandlerDeps, purpose: LinkPurpose, userId: string) {
  const nonce = newNonce();
  return { nonce, tokenHash: tokenHash(linkToken(deps.linkSecret, purpose, userId, nonce)) };
}

const linkEmailContext = (deps: HandlerDeps) => ({
  now: deps.now(),
  linkEmailLimit: deps.linkEmailLimit ?? rateLimitDefaults.linkEmailsPerAccount,
});

/** The alerts a user has, as SetAlert's cap counts them: changed here at once (alert/alertPolicyFacts.ts). */
function countAlerts(deps: ServiceDeps, userId: string, events: readonly DomainEvent[]): void {
  for (const e of events) {
    if (e.type === 'AlertSet') deps.alertPolicyFacts.counted(userId, 1);
    if (e.type === 'AlertDeleted') deps.alertPolicyFacts.counted(userId, -1);
  }
}

const invalidToken: CommandReply = { ok: false, error: 'TOKEN_INVALID', message: 'This link is not valid' };

/** One handler per command: prepare what needs I/O or secrets (hashes, tokens, read-model facts), then a pure decision. */
export const handlers: { [N in CommandName]: Handler<N> } = {
  RequestRegistration: async (p, deps, ctx) => {
    const userId = userIdFor(p.username, deps.personal.userIdKey);
    const passwordHash = await (deps.hashPassword ?? hashPassword)(p.password);
    return onUser(deps, ctx, userId, async (state) => {
      // A username registered anew after an erasure is never sealed under the erased person's key, which the
      // notifier destroys once it has sent them the confirmation (it may not have yet): that key, and only it, goes first.
      if (state.status === 'erased' && state.keyRevision !== undefined)
        await deps.personal.forget(userId, state.keyRevision);
      const [username, email] = await Promise.all([
        deps.personal.seal(userId, 'username', p.username),
        deps.personal.seal(userId, 'email', p.email),
      ]);
      const repeated =
        state.status === 'pending' &&
        (await deps.personal.reveal(userId, 'email', state.email)) === p.email &&
        (await passwordMatches(state.passwordHash, p.password));
      const data = {
        userId,
        username,
        email,
        emailLookup: deps.personal.lookup('email', p.email),
        passwordHash,
        repeated,
        ...issue(deps, 'verify', userId),
      };
      return userDecider.decide({ type: 'RequestRegistration', data, metadata: { now: deps.now() } }, state);
    });
  },
  ResendVerification: (p, deps, ctx) => {
    const userId = userIdFor(p.username, deps.personal.userIdKey);
    return onUser(deps, ctx, userId, (state) =>
      userDecider.decide(
        { type: 'ResendVerification', data: issue(deps, 'verify', userId), metadata: linkEmailContext(deps) },
        state,
      ),
    );
  },
  VerifyRegistration: async (p, deps, ctx) => {
    const userId = tokenUserId(p.token);
    if (!userId) return invalidToken;
    return onUser(deps, ctx, userId, (state) =>
      userDecider.decide(
        { type: 'VerifyRegistration', data: { tokenHash: tokenHash(p.token) }, metadata: { now: deps.now() } },
        state,
      ),
    );
  },
  LogIn: (p, deps, ctx) =>
    onUser(deps, ctx, userIdFor(p.username, deps.personal.userIdKey), async (state) => {
      const matches = await passwordMatches(state.status === 'registered' ? state.passwordHash : undefined, p.password);
      return userDecider.decide(
        { type: 'LogIn', data: { passwordMatches: matches, sessionId: randomUUID() }, metadata: { now: deps.now() } },
        state,
      );
    }),
  LogOut: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) =>
      userDecider.decide({ type: 'LogOut', data: { sessionId: p.sessionId } }, state),
    ),
  RequestPasswordReset: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) =>
      userDecider.decide(
        { type: 'RequestPasswordReset', data: issue(deps, 'reset', p.userId), metadata: linkEmailContext(deps) },
        state,
      ),
    ),
  ResetPassword: async (p, deps, ctx) => {
    const userId = tokenUserId(p.token);
    if (!userId) return invalidToken;
    const link = { tokenHash: tokenHash(p.token) };
    // Hashed only once the link is known good, and once even if a concurrent change makes the decision run again.
    let passwordHash: Promise<string> | undefined;
    return onUser(deps, ctx, userId, async (state) => {
      const metadata = { now: deps.now() };
      const refused = resetLinkRefusal(link, state, metadata);
      if (refused) return refused;
      passwordHash ??= (deps.hashPassword ?? hashPassword)(p.password);
      return userDecider.decide(
        { type: 'ResetPassword', data: { ...link, passwordHash: await passwordHash }, metadata },
        state,
      );
    });
  },
  ChangePassword: (p, deps, ctx) => {
    // Hashed only once the current password is proven, and once even if a concurrent change makes the decision run again.
    let passwordHash: Promise<string> | undefined;
    return onUser(deps, ctx, p.userId, async (state) => {
      // An ended session is refused before anything costs an argon2id verification.
      const ended = sessionRefusal(p.sessionId, state);
      if (ended) return ended;
      const hash = state.status === 'registered' ? state.passwordHash : undefined;
      const currentPasswordMatches = await passwordMatches(hash, p.currentPassword);
      // Only a wrong current password pays for a second check: was this very change made already (sent twice)?
      const alreadyNew = !currentPasswordMatches && (await passwordMatches(hash, p.newPassword));
      const check = { sessionId: p.sessionId, currentPasswordMatches, alreadyNew };
      const refused = passwordChangeRefusal(check, state);
      if (refused) return refused;
      // Made already, the account's hash is the new password's: nothing to hash.
      const newHash =
        alreadyNew && hash ? hash : await (passwordHash ??= (deps.hashPassword ?? hashPassword)(p.newPassword));
      return userDecider.decide({ type: 'ChangePassword', data: { ...check, passwordHash: newHash } }, state);
    });
  },
  EndOtherSessions: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) =>
      userDecider.decide({ type: 'EndOtherSessions', data: { sessionId: p.sessionId } }, state),
    ),
  RequestEmailChange: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, async (state) => {
      // Checked as LogIn checks it (an absent account costs a hash too), then decided on with the link to send.
      const matches = await passwordMatches(state.status === 'registered' ? state.passwordHash : undefined, p.password);
      const current = state.status === 'registered' ? await deps.personal.reveal(p.userId, 'email', state.email) : '';
      const data = {
        email: await deps.personal.seal(p.userId, 'email', p.email),
        emailLookup: deps.personal.lookup('email', p.email),
        currentAddress: current.toLowerCase() === p.email.toLowerCase(),
        passwordMatches: matches,
        ...issue(deps, 'email-change', p.userId),
      };
      return userDecider.decide(
        {
          type: 'RequestEmailChange',
          data,
          metadata: linkEmailContext(deps),
        },
        state,
      );
    }),
  ConfirmEmailChange: async (p, deps, ctx) => {
    const userId = tokenUserId(p.token);
    if (!userId) return invalidToken;
    return onUser(deps, ctx, userId, (state) =>
      userDecider.decide(
        { type: 'ConfirmEmailChange', data: { tokenHash: tokenHash(p.token) }, metadata: { now: deps.now() } },
        state,
      ),
    );
  },
  PauseAlertEmails: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) => userDecider.decide({ type: 'PauseAlertEmails' }, state)),
  ResumeAlertEmails: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, (state) =>
      userDecider.decide(
        { type: 'ResumeAlertEmails', data: { retryRefusedAddress: p.retryRefusedAddress ?? false } },
        state,
      ),
    ),
  DeleteAccount: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, async (state) => {
      const matches = await passwordMatches(state.status === 'registered' ? state.passwordHash : undefined, p.password);
      const keyRevision = (await deps.personal.keys.current(p.userId))?.revision;
      return userDecider.decide({ type: 'DeleteAccount', data: { passwordMatches: matches, keyRevision } }, state);
    }),
  EraseAccount: (p, deps, ctx) =>
    onUser(deps, ctx, p.userId, async (state) => {
      const keyRevision = (await deps.personal.keys.current(p.userId))?.revision;
      return userDecider.decide({ type: 'EraseAccount', data: { keyRevision } }, state);
    }),
  AddChannel: async (p, deps, ctx) => {
    const metadata = { channels: await channelsOf(deps.pool, deps.schema, p.userId) };
    const secret = newWebhookSecret();
    const sealed = {
      url: await deps.personal.seal(p.userId, 'webhook-url', p.url),
      secret: await deps.personal.seal(p.userId, 'webhook-secret', secret),
    };
    let stored = false;
    const reply = await onChannel(
      deps,
      ctx,
      p.channelId,
      (state) => channelDecider.decide({ type: 'AddChannel', data: { ...p, ...sealed }, metadata }, state),
      { expectNew: true, stored: () => (stored = true) },
    );
    // The secret is told once, by the append that stored it: a repeated command stored nothing, and its secret is not the one kept.
    return reply.ok && stored ? { ...reply, result: { ...reply.result, secret } } : reply;
  },
  TestChannel: (p, deps, ctx) =>
    onChannel(deps, ctx, p.channelId, (state) => channelDecider.decide({ type: 'TestChannel', data: p }, state)),
  PauseChannel: (p, deps, ctx) =>
    onChannel(deps, ctx, p.channelId, (state) => channelDecider.decide({ type: 'PauseChannel', data: p }, state)),
  ResumeChannel: (p, deps, ctx) =>
    onChannel(deps, ctx, p.channelId, (state) => channelDecider.decide({ type: 'ResumeChannel', data: p }, state)),
  DeleteChannel: (p, deps, ctx) =>
    onChannel(deps, ctx, p.channelId, (state) => channelDecider.decide({ type: 'DeleteChannel', data: p }, state)),
  SetAlert: async (p, deps, ctx) => {
    const metadata = await deps.alertPolicyFacts.facts(p.userId);
    return onAlert(
      deps,
      ctx,
      p.alertId,
      (state) => alertDecider.decide({ type: 'SetAlert', data: p, metadata: { ...metadata, now: deps.now() } }, state),
      { expectNew: true, stored: (events) => countAlerts(deps, p.userId, events) },
    );
  },
  EditAlert: (p, deps, ctx) =>
    onAlert(deps, ctx, p.alertId, (state) =>
      alertDecider.decide({ type: 'EditAlert', data: p, metadata: { now: deps.now() } }, state),
    ),
  PauseAlert: (p, deps, ctx) =>
    onAlert(deps, ctx, p.alertId, (state) => alertDecider.decide({ type: 'PauseAlert', data: p }, state)),
  ResumeAlert: (p, deps, ctx) =>
    onAlert(deps, ctx, p.alertId, (state) => alertDecider.decide({ type: 'ResumeAlert', data: p }, state)),
  RearmAlert: (p, deps, ctx) =>
    onAlert(deps, ctx, p.alertId, (state) => alertDecider.decide({ type: 'RearmAlert', data: p }, state)),
  DeleteAlert: (p, deps, ctx) =>
    onAlert(deps, ctx, p.alertId, (state) => alertDecider.decide({ type: 'DeleteAlert', data: p }, state), {
      stored: (events) => countAlerts(deps, p.userId, events),
    }),
};
