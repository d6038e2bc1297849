import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../events/index.ts';
import type { Decision } from '../decision.ts';
import * as user from './userDecisions.ts';
import { evolveUser, initialUserState, userIdFor, type UserState } from './userState.ts';

const now = new Date('2026-11-02T10:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const userId = userIdFor('Ada');
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const h = (c: string) => c.repeat(64);
const nonce = 'n'.repeat(22);

/** given(history).when(decide).then(events | error): the decider spec style. */
function given(history: DomainEvent[]) {
  const state = history.reduce(evolveUser, initialUserState);
  return {
    when: (decide: (s: UserState) => Decision) => {
      const d = decide(state);
      return {
        then: (expected: DomainEvent[]) => expect(d).toMatchObject({ ok: true, events: expected }),
        thenRefused: (error: string) => expect(d).toMatchObject({ ok: false, error }),
      };
    },
  };
}

const requested = (expiresAt = later(user.VERIFICATION_TTL_MS).toISOString(), tokenHash = h('a')): DomainEvent => ({
  type: 'RegistrationRequested',
  data: { userId, username: 'ada', email: 'ada@example.com', passwordHash: argon, tokenNonce: nonce, tokenHash, expiresAt },
});
const registered: DomainEvent = { type: 'UserRegistered', data: { userId, username: 'ada', email: 'ada@example.com' } };
const register = (s: UserState, at = now) =>
  user.requestRegistration({ userId, username: 'ada', email: 'ada@example.com', passwordHash: argon, nonce, tokenHash: h('b') }, s, { now: at });

describe('registration', () => {
  it('derives one user id per username, whatever its case', () => {
    expect(userIdFor('Ada')).toBe(userIdFor('ada'));
    expect(userIdFor('ada')).not.toBe(userIdFor('ada2'));
  });
  it('requests a registration that expires in 24 hours', () => given([]).when((s) => register(s)).then([{ type: 'RegistrationRequested', data: { expiresAt: later(user.VERIFICATION_TTL_MS).toISOString() } } as never]));
  it('refuses a username that is pending', () => given([requested()]).when((s) => register(s)).thenRefused('USERNAME_TAKEN'));
  it('accepts again, recording nothing, a pending registration asked for again by the same person (same email and password)', () =>
    given([requested()]).when((s) => user.requestRegistration({ userId, username: 'ada', email: 'ada@example.com', passwordHash: argon, nonce, tokenHash: h('b'), repeated: true }, s, { now })).then([]));
  it('refuses a registered username', () => given([requested(), registered]).when((s) => register(s)).thenRefused('USERNAME_TAKEN'));
  it('frees a username whose pending registration expired, in one message', () =>
    given([requested(now.toISOString())])
      .when((s) => register(s, later(1)))
      .then([{ type: 'RegistrationExpired', data: { userId, username: 'ada' } }, { type: 'RegistrationRequested' } as never]));
});

describe('verification', () => {
  it('registers on the right token', () => given([requested()]).when((s) => user.verifyRegistration({ tokenHash: h('a') }, s, { now })).then([registered]));
  it('refuses a forged token', () => given([requested()]).when((s) => user.verifyRegistration({ tokenHash: h('c') }, s, { now })).thenRefused('TOKEN_INVALID'));
  it('refuses an expired token', () =>
    given([requested()]).when((s) => user.verifyRegistration({ tokenHash: h('a') }, s, { now: later(user.VERIFICATION_TTL_MS + 1) })).thenRefused('TOKEN_EXPIRED'));
  it('refuses a used token', () => given([requested(), registered]).when((s) => user.verifyRegistration({ tokenHash: h('a') }, s, { now })).thenRefused('TOKEN_USED'));
  it('honours only the latest link after a resend', () =>
    given([requested(), { type: 'VerificationReissued', data: { userId, tokenNonce: nonce, tokenHash: h('d'), expiresAt: later(1000).toISOString() } }])
      .when((s) => user.verifyRegistration({ tokenHash: h('a') }, s, { now }))
      .thenRefused('TOKEN_INVALID'));
});

describe('sessions and passwords', () => {
  const session = '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11';
  const loggedIn: DomainEvent = { type: 'UserLoggedIn', data: { userId, sessionId: session, expiresAt: later(user.SESSION_TTL_MS).toISOString() } };
  it('gives one answer for an unverified account and a wrong password', () => {
    given([requested()]).when((s) => user.logIn({ passwordMatches: true, sessionId: session }, s, { now })).thenRefused('INVALID_CREDENTIALS');
    given([requested(), registered]).when((s) => user.logIn({ passwordMatches: false, sessionId: session }, s, { now })).thenRefused('INVALID_CREDENTIALS');
  });
  it('opens a session on the right password', () =>
    given([requested(), registered]).when((s) => user.logIn({ passwordMatches: true, sessionId: session }, s, { now })).then([loggedIn]));
  it('closes an open session, and does nothing for a closed one', () => {
    given([requested(), registered, loggedIn]).when((s) => user.logOut({ sessionId: session }, s)).then([{ type: 'UserLoggedOut', data: { userId, sessionId: session } }]);
    given([requested(), registered, loggedIn, { type: 'UserLoggedOut', data: { userId, sessionId: session } }]).when((s) => user.logOut({ sessionId: session }, s)).then([]);
  });
  const resetAsked: DomainEvent = { type: 'PasswordResetRequested', data: { userId, tokenNonce: nonce, tokenHash: h('e'), expiresAt: later(user.RESET_TTL_MS).toISOString() } };
  it('changes the password with a reset link and ends every session', () =>
    given([requested(), registered, loggedIn, resetAsked])
      .when((s) => user.resetPassword({ tokenHash: h('e'), passwordHash: argon }, s, { now }))
      .then([{ type: 'PasswordChanged', data: { userId, passwordHash: argon, endedSessionIds: [session] } }]));
  it('uses a reset link once, and only within the hour', () => {
    const changed: DomainEvent = { type: 'PasswordChanged', data: { userId, passwordHash: argon, endedSessionIds: [] } };
    given([requested(), registered, resetAsked, changed]).when((s) => user.resetPassword({ tokenHash: h('e'), passwordHash: argon }, s, { now })).thenRefused('TOKEN_USED');
    given([requested(), registered, resetAsked]).when((s) => user.resetPassword({ tokenHash: h('e'), passwordHash: argon }, s, { now: later(user.RESET_TTL_MS + 1) })).thenRefused('TOKEN_EXPIRED');
  });
});

describe('link emails per account', () => {
  const limit = { max: 3, timeWindowMs: user.RESET_TTL_MS };
  const at = (ms: number) => ({ now: later(ms), linkEmailLimit: limit });
  const issue = { nonce, tokenHash: h('f') };
  const reissued = (ms: number, c: string): DomainEvent => ({
    type: 'VerificationReissued',
    data: { userId, tokenNonce: nonce, tokenHash: h(c), expiresAt: later(ms + user.VERIFICATION_TTL_MS).toISOString() },
  });
  const resetAsked = (ms: number, c: string): DomainEvent => ({
    type: 'PasswordResetRequested',
    data: { userId, tokenNonce: nonce, tokenHash: h(c), expiresAt: later(ms + user.RESET_TTL_MS).toISOString() },
  });

  it('resends a verification link until the account was sent its limit of link emails in the window', () => {
    given([requested(), reissued(60_000, 'b')]).when((s) => user.resendVerification(issue, s, at(120_000))).then([{ type: 'VerificationReissued' } as never]);
    given([requested(), reissued(60_000, 'b'), reissued(120_000, 'c')]).when((s) => user.resendVerification(issue, s, at(180_000))).thenRefused('TOO_MANY_EMAILS');
  });

  it('counts verification and reset links together, and only those of the last window', () => {
    const history = [requested(), registered, resetAsked(1_000, 'e'), resetAsked(2_000, 'f')];
    given(history).when((s) => user.requestPasswordReset(issue, s, at(3_000))).thenRefused('TOO_MANY_EMAILS');
    // The registration's email is older than the window now: one more link may go.
    given(history).when((s) => user.requestPasswordReset(issue, s, at(user.RESET_TTL_MS + 1))).then([{ type: 'PasswordResetRequested' } as never]);
  });

  it('still answers an unknown account as unknown, whatever the count', () =>
    given([]).when((s) => user.requestPasswordReset(issue, s, at(0))).thenRefused('NOT_FOUND'));
});
