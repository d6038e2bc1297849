import { match } from 'ts-pattern';
import { event, type UserEvent } from '../../../events/index.ts';
import type { RateLimit } from '../../../platform/rateLimits.ts';
import { sameHash } from '../../../platform/tokens.ts';
import { accept, refuse, type Decider, type Decision, type DecisionContext, type Refusal } from '../decision.ts';
import {
  EMAIL_CHANGE_TTL_MS,
  evolveUser,
  initialUserState,
  RESET_TTL_MS,
  SESSION_TTL_MS,
  VERIFICATION_TTL_MS,
  type UserState,
} from './userState.ts';

const isPast = (iso: string, now: Date) => Date.parse(iso) <= now.getTime();
const plus = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

export type IssuedToken = { nonce: string; tokenHash: string };

/** What a decision that emails a link also knows: how many link emails one account may be sent per window. */
export type LinkEmailContext = DecisionContext & { linkEmailLimit: RateLimit };

/**
 * The user's commands as the handler hands them over: what needs I/O or secrets (hashes, tokens, the password check)
 * is done, and the clock and limits come along as metadata, so every decision is pure.
 */
export type UserCommand =
  // repeated: a pending registration of this username has this email and this password: the same person asking again.
  | {
      type: 'RequestRegistration';
      // username and email sealed under the person's key, emailLookup its lookup hash (platform/personalData).
      data: {
        userId: string;
        username: string;
        email: string;
        emailLookup: string;
        passwordHash: string;
        repeated?: boolean;
      } & IssuedToken;
      metadata: DecisionContext;
    }
  | { type: 'ResendVerification'; data: IssuedToken; metadata: LinkEmailContext }
  | { type: 'VerifyRegistration'; data: { tokenHash: string }; metadata: DecisionContext }
  | { type: 'LogIn'; data: { passwordMatches: boolean; sessionId: string }; metadata: DecisionContext }
  | { type: 'LogOut'; data: { sessionId: string } }
  | { type: 'RequestPasswordReset'; data: IssuedToken; metadata: LinkEmailContext }
  | { type: 'ResetPassword'; data: { tokenHash: string; passwordHash: string }; metadata: DecisionContext }
  // The handler checked the current password (and, when wrong, the new one) against the account's argon2id hash.
  | { type: 'ChangePassword'; data: PasswordCheck & { passwordHash: string } }
  | { type: 'EndOtherSessions'; data: { sessionId: string } }
  | {
      type: 'RequestEmailChange';
      // email sealed under the person's key and its lookup hash; currentAddress: it is the account's address already
      // (the handler compares them opened: sealed values never compare equal).
      data: { email: string; emailLookup: string; currentAddress: boolean; passwordMatches: boolean } & IssuedToken;
      metadata: LinkEmailContext;
    }
  | { type: 'ConfirmEmailChange'; data: { tokenHash: string }; metadata: DecisionContext }
  | { type: 'PauseAlertEmails' }
  | { type: 'ResumeAlertEmails'; data: { retryRefusedAddress: boolean } }
  // The handler checked the password against the account's hash (a decoy hash when there is none), as LogIn does.
  // keyRevision: the person's key's revision now, recorded for the notifier to destroy (handlers.ts).
  | { type: 'DeleteAccount'; data: { passwordMatches: boolean; keyRevision?: number } }
  | { type: 'EraseAccount'; data: { keyRevision?: number } };
type CommandOf<T extends UserCommand['type']> = Extract<UserCommand, { type: T }>;

/**
 * The cap on link emails per account, so per address: decided here from the account's own events, so it holds on
 * every instance and after restarts, and the web's answer (the same whatever the account) tells nobody about it.
 */
function tooManyLinkEmails(state: UserState, { now, linkEmailLimit }: LinkEmailContext): Refusal | undefined {
  const since = now.getTime() - linkEmailLimit.timeWindowMs;
  if (state.linkEmailsAt.filter((at) => at > since).length < linkEmailLimit.max) return undefined;
  return refuse('TOO_MANY_EMAILS', 'Too many emails were sent for this account recently; try again later');
}

function requestRegistration(
  { data: command, metadata: { now } }: CommandOf<'RequestRegistration'>,
  state: UserState,
): Decision<UserEvent> {
  const requested = event('RegistrationRequested', {
    userId: command.userId,
    username: command.username,
    email: command.email,
    emailLookup: command.emailLookup,
    passwordHash: command.passwordHash,
    tokenNonce: command.nonce,
    tokenHash: command.tokenHash,
    expiresAt: plus(now, VERIFICATION_TTL_MS),
  });
  if (state.status === 'registered') return refuse('USERNAME_TAKEN', 'That username is taken');
  if (state.status === 'pending') {
    // A retry of a registration whose answer came too late is that registration, done, not someone else's.
    if (!isPast(state.verification.expiresAt, now) && command.repeated) return accept([], { userId: command.userId });
    if (!isPast(state.verification.expiresAt, now)) return refuse('USERNAME_TAKEN', 'That username is taken');
    // An expired pending registration frees the username: record that, then the new request, as one message.
    return accept([event('RegistrationExpired', { userId: state.userId, username: state.username }), requested], {
      userId: command.userId,
    });
  }
  return accept([requested], { userId: command.userId });
}

function resendVerification(
  { data: command, metadata: context }: CommandOf<'ResendVerification'>,
  state: UserState,
): Decision<UserEvent> {
  const { now } = context;
  if (state.status !== 'pending' || isPast(state.verification.expiresAt, now)) {
    return refuse('NOT_FOUND', 'No pending registration for that username');
  }
  const capped = tooManyLinkEmails(state, context);
  if (capped) return capped;
  return accept([
    event('VerificationReissued', {
      userId: state.userId,
      tokenNonce: command.nonce,
      tokenHash: command.tokenHash,
      expiresAt: plus(now, VERIFICATION_TTL_MS),
    }),
  ]);
}

function verifyRegistration(
  { data: command, metadata: { now } }: CommandOf<'VerifyRegistration'>,
  state: UserState,
): Decision<UserEvent> {
  if (state.usedVerificationHashes.some((h) => sameHash(h, command.tokenHash)))
    return refuse('TOKEN_USED', 'This link was already used');
  if (state.status !== 'pending' || !sameHash(state.verification.hash, command.tokenHash)) {
    return refuse('TOKEN_INVALID', 'This link is not valid');
  }
  if (isPast(state.verification.expiresAt, now)) return refuse('TOKEN_EXPIRED', 'This link has expired');
  return accept([event('UserRegistered', { userId: state.userId, username: state.username, email: state.email })], {
    userId: state.userId,
  });
}

function logIn({ data: command, metadata: { now } }: CommandOf<'LogIn'>, state: UserState): Decision<UserEvent> {
  // One answer for an unknown user, an unverified one and a wrong password: no account enumeration.
  if (state.status !== 'registered' || !command.passwordMatches)
    return refuse('INVALID_CREDENTIALS', 'Wrong username or password');
  return accept(
    [
      event('UserLoggedIn', {
        userId: state.userId,
        sessionId: command.sessionId,
        expiresAt: plus(now, SESSION_TTL_MS),
      }),
    ],
    {
      userId: state.userId,
      sessionId: command.sessionId,
    },
  );
}

function logOut({ data: command }: CommandOf<'LogOut'>, state: UserState): Decision<UserEvent> {
  if (state.status !== 'registered' || !state.openSessions.includes(command.sessionId)) return accept([]);
  return accept([event('UserLoggedOut', { userId: state.userId, sessionId: command.sessionId })]);
}

function requestPasswordReset(
  { data: command, metadata: context }: CommandOf<'RequestPasswordReset'>,
  state: UserState,
): Decision<UserEvent> {
  const { now } = context;
  if (state.status !== 'registered') return refuse('NOT_FOUND', 'No such account');
  const capped = tooManyLinkEmails(state, context);
  if (capped) return capped;
  return accept([
    event('PasswordResetRequested', {
      userId: state.userId,
      tokenNonce: command.nonce,
      tokenHash: command.tokenHash,
      expiresAt: plus(now, RESET_TTL_MS),
    }),
  ]);
}

/**
 * Why this reset link cannot be used, or undefined when it can. The handler asks before hashing the new password,
 * so a forged, used or expired link never costs an argon2id hash.
 */
export function resetLinkRefusal(
  command: { tokenHash: string },
  state: UserState,
  { now }: DecisionContext,
): Refusal | undefined {
  if (state.status !== 'registered') return refuse('TOKEN_INVALID', 'This link is not valid');
  if (state.usedResetHashes.some((h) => sameHash(h, command.tokenHash)))
    return refuse('TOKEN_USED', 'This link was already used');
  if (!state.reset || !sameHash(state.reset.hash, command.tokenHash))
    return refuse('TOKEN_INVALID', 'This link is not valid');
  if (isPast(state.reset.expiresAt, now)) return refuse('TOKEN_EXPIRED', 'This link has expired');
  return undefined;
}

function resetPassword(
  { data: command, metadata: context }: CommandOf<'ResetPassword'>,
  state: UserState,
): Decision<UserEvent> {
  const refused = resetLinkRefusal(command, state, context);
  if (refused || state.status !== 'registered') return refused ?? refuse('TOKEN_INVALID', 'This link is not valid');
  return accept(
    [
      event('PasswordChanged', {
        userId: state.userId,
        passwordHash: command.passwordHash,
        endedSessionIds: state.openSessions,
      }),
    ],
    {
      userId: state.userId,
    },
  );
}

/**
 * A password change as far as it can be decided before the new password is hashed. alreadyNew: the current password
 * did not match, but the new one does: the same change sent again (a double submit, a retry after no answer).
 */
export type PasswordCheck = { sessionId: string; currentPasswordMatches: boolean; alreadyNew?: boolean };

/** Why the session `sessionId` may change nothing of the account, or undefined when it may: it must still be open. */
export function sessionRefusal(sessionId: string, state: UserState): Refusal | undefined {
  if (state.status !== 'registered') return refuse('NOT_FOUND', 'No such account');
  // The web found the session open in the read model, which may not show yet an end the log already holds.
  if (!state.openSessions.includes(sessionId)) return refuse('SESSION_ENDED', 'This session has ended');
  return undefined;
}

/**
 * Why this password change cannot be made, or undefined when it can. The handler asks before hashing the new
 * password, so a wrong current password never pays for that hash.
 */
export function passwordChangeRefusal(check: PasswordCheck, state: UserState): Refusal | undefined {
  const ended = sessionRefusal(check.sessionId, state);
  if (ended) return ended;
  if (!check.currentPasswordMatches && !check.alreadyNew)
    return refuse('INVALID_CREDENTIALS', 'That is not your current password', ['currentPassword']);
  return undefined;
}

/** The password replaced from a session, which stays open; every other session ends (and a reset link asked for before). */
function changePassword({ data: command }: CommandOf<'ChangePassword'>, state: UserState): Decision<UserEvent> {
  const refused = passwordChangeRefusal(command, state);
  if (refused || state.status !== 'registered') return refused ?? refuse('NOT_FOUND', 'No such account');
  // Asked again once done: done, with nothing more to record (the sessions it ended are ended).
  if (!command.currentPasswordMatches) return accept([]);
  return accept([
    event('PasswordChanged', {
      userId: state.userId,
      passwordHash: command.passwordHash,
      endedSessionIds: state.openSessions.filter((s) => s !== command.sessionId),
      keptSessionId: command.sessionId,
    }),
  ]);
}

/**
 * A signed-in user asks to move the account to a new address, with their password. Nothing here depends on whether
 * another account uses that address (addresses are not unique; the answer tells nobody about other accounts).
 */
function requestEmailChange(
  { data: command, metadata: context }: CommandOf<'RequestEmailChange'>,
  state: UserState,
): Decision<UserEvent> {
  if (state.status !== 'registered') return refuse('NOT_FOUND', 'No such account');
  if (!command.passwordMatches) return refuse('INVALID_CREDENTIALS', 'Wrong password', ['password']);
  if (command.currentAddress) return refuse('INVALID_COMMAND', 'That is already your address', ['email']);
  const capped = tooManyLinkEmails(state, context);
  if (capped) return capped;
  return accept([
    event('EmailChangeRequested', {
      userId: state.userId,
      email: command.email,
      emailLookup: command.emailLookup,
      tokenNonce: command.nonce,
      tokenHash: command.tokenHash,
      expiresAt: plus(context.now, EMAIL_CHANGE_TTL_MS),
    }),
  ]);
}

/** "Log out everywhere else": every open session but this one ends; with none other open, nothing is recorded. */
function endOtherSessions({ data: command }: CommandOf<'EndOtherSessions'>, state: UserState): Decision<UserEvent> {
  const refused = sessionRefusal(command.sessionId, state);
  if (refused || state.status !== 'registered') return refused ?? refuse('NOT_FOUND', 'No such account');
  const others = state.openSessions.filter((s) => s !== command.sessionId);
  if (others.length === 0) return accept([]);
  return accept([
    event('SessionsEnded', { userId: state.userId, sessionIds: others, keptSessionId: command.sessionId }),
  ]);
}

/** The link sent to the new address, followed: the latest one, once, before it expires. */
function confirmEmailChange(
  { data: command, metadata: { now } }: CommandOf<'ConfirmEmailChange'>,
  state: UserState,
): Decision<UserEvent> {
  if (state.status !== 'registered') return refuse('TOKEN_INVALID', 'This link is not valid');
  if (state.usedEmailChangeHashes.some((h) => sameHash(h, command.tokenHash)))
    return refuse('TOKEN_USED', 'This link was already used');
  const change = state.emailChange;
  if (!change || !sameHash(change.hash, command.tokenHash)) return refuse('TOKEN_INVALID', 'This link is not valid');
  if (isPast(change.expiresAt, now)) return refuse('TOKEN_EXPIRED', 'This link has expired');
  const changed = { email: change.email, emailLookup: change.emailLookup, previousEmail: state.email };
  return accept([event('EmailChanged', { userId: state.userId, ...changed })], {
    userId: state.userId,
  });
}

/**
 * Pause or resume alert emails. A refused address pauses them too, outside this subject (the notifier records the
 * refusal, and the read models pause while it is the account's address): resuming with `retryRefusedAddress` is how
 * its owner has it tried again, so it records AlertEmailsResumed even when they had not paused them themselves.
 */
function setAlertEmails(paused: boolean, state: UserState, retryRefusedAddress = false): Decision<UserEvent> {
  if (state.status !== 'registered') return refuse('NOT_FOUND', 'No such account');
  if (state.alertEmailsPaused === paused && !retryRefusedAddress) return accept([]);
  return accept([
    paused
      ? event('AlertEmailsPaused', { userId: state.userId })
      : event('AlertEmailsResumed', { userId: state.userId }),
  ]);
}

/** The owner's own deletion: only a registered account, and only with its password (the answer beside the field). */
function deleteAccount({ data: command }: CommandOf<'DeleteAccount'>, state: UserState): Decision<UserEvent> {
  if (state.status !== 'registered' || !command.passwordMatches)
    return refuse('INVALID_CREDENTIALS', 'Wrong password', ['password']);
  const key = command.keyRevision ? { keyRevision: command.keyRevision } : {};
  return accept([event('AccountErased', { userId: state.userId, by: 'owner', ...key })], { userId: state.userId });
}

/** An operator's erasure: any account that holds a person's data, pending or registered; no password. */
function eraseAccount({ data: command }: CommandOf<'EraseAccount'>, state: UserState): Decision<UserEvent> {
  if (state.status !== 'registered' && state.status !== 'pending') return refuse('NOT_FOUND', 'No such account');
  const key = command.keyRevision ? { keyRevision: command.keyRevision } : {};
  return accept([event('AccountErased', { userId: state.userId, by: 'operator', ...key })], { userId: state.userId });
}

function decide(command: UserCommand, state: UserState): Decision<UserEvent> {
  return match(command)
    .with({ type: 'RequestRegistration' }, (c) => requestRegistration(c, state))
    .with({ type: 'ResendVerification' }, (c) => resendVerification(c, state))
    .with({ type: 'VerifyRegistration' }, (c) => verifyRegistration(c, state))
    .with({ type: 'LogIn' }, (c) => logIn(c, state))
    .with({ type: 'LogOut' }, (c) => logOut(c, state))
    .with({ type: 'RequestPasswordReset' }, (c) => requestPasswordReset(c, state))
    .with({ type: 'ResetPassword' }, (c) => resetPassword(c, state))
    .with({ type: 'ChangePassword' }, (c) => changePassword(c, state))
    .with({ type: 'EndOtherSessions' }, (c) => endOtherSessions(c, state))
    .with({ type: 'RequestEmailChange' }, (c) => requestEmailChange(c, state))
    .with({ type: 'ConfirmEmailChange' }, (c) => confirmEmailChange(c, state))
    .with({ type: 'PauseAlertEmails' }, () => setAlertEmails(true, state))
    .with({ type: 'ResumeAlertEmails' }, (c) => setAlertEmails(false, state, c.data.retryRefusedAddress))
    .with({ type: 'DeleteAccount' }, (c) => deleteAccount(c, state))
    .with({ type: 'EraseAccount' }, (c) => eraseAccount(c, state))
    .exhaustive();
}

/** The user aggregate: one subject per normalised username (events/user.ts, userIdFor in events/subjects.ts). */
export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  decide,
  evolve: evolveUser,
  initialState: initialUserState,
};
