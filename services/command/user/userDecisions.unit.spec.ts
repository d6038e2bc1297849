import { describe, expect, it } from 'vitest';
import { event } from '../../../events/index.ts';
import { deciderSpec } from '../../../test/deciderSpec.ts';
import { userDecider, type IssuedToken, type UserCommand } from './userDecisions.ts';
import { EMAIL_CHANGE_TTL_MS, RESET_TTL_MS, SESSION_TTL_MS, VERIFICATION_TTL_MS } from './userState.ts';
import { testUserId } from '../../../test/personalKeys.ts';

const { given } = deciderSpec(userDecider);
const now = new Date('2026-11-02T10:00:00.000Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const userId = testUserId('Ada');
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const h = (c: string) => c.repeat(64);
const nonce = 'n'.repeat(22);

const requested = (expiresAt = later(VERIFICATION_TTL_MS).toISOString(), tokenHash = h('a')) =>
  event('RegistrationRequested', {
    userId,
    username: 'ada',
    email: 'ada@example.com',
    emailLookup,
    passwordHash: argon,
    tokenNonce: nonce,
    tokenHash,
    expiresAt,
  });
const emailLookup = 'L'.repeat(43);
const registered = event('UserRegistered', { userId, username: 'ada', email: 'ada@example.com' });
const register = (at = now, repeated?: boolean): UserCommand => ({
  type: 'RequestRegistration',
  data: {
    userId,
    username: 'ada',
    email: 'ada@example.com',
    emailLookup,
    passwordHash: argon,
    nonce,
    tokenHash: h('b'),
    ...(repeated ? { repeated } : {}),
  },
  metadata: { now: at },
});
const verify = (tokenHash: string, at = now): UserCommand => ({
  type: 'VerifyRegistration',
  data: { tokenHash },
  metadata: { now: at },
});
const logIn = (passwordMatches: boolean, sessionId: string): UserCommand => ({
  type: 'LogIn',
  data: { passwordMatches, sessionId },
  metadata: { now },
});
const resetPassword = (tokenHash: string, at = now): UserCommand => ({
  type: 'ResetPassword',
  data: { tokenHash, passwordHash: argon },
  metadata: { now: at },
});

describe('registration', () => {
  it('derives one user id per username, whatever its case', () => {
    expect(testUserId('Ada')).toBe(testUserId('ada'));
    expect(testUserId('ada')).not.toBe(testUserId('ada2'));
  });
  it('requests a registration that expires in 24 hours', () =>
    given([])
      .when(register())
      .then([{ type: 'RegistrationRequested', data: { expiresAt: later(VERIFICATION_TTL_MS).toISOString() } }]));
  it('refuses a username that is pending', () => given([requested()]).when(register()).thenRefuses('USERNAME_TAKEN'));
  it('accepts again, recording nothing, a pending registration asked for again by the same person (same email and password)', () =>
    given([requested()]).when(register(now, true)).then([]));
  it('refuses a registered username', () =>
    given([requested(), registered]).when(register()).thenRefuses('USERNAME_TAKEN'));
  it('frees a username whose pending registration expired, in one message', () =>
    given([requested(now.toISOString())])
      .when(register(later(1)))
      .then([{ type: 'RegistrationExpired', data: { userId, username: 'ada' } }, { type: 'RegistrationRequested' }]));
});

describe('verification', () => {
  it('registers on the right token', () =>
    given([requested()])
      .when(verify(h('a')))
      .then([registered]));
  it('refuses a forged token', () =>
    given([requested()])
      .when(verify(h('c')))
      .thenRefuses('TOKEN_INVALID'));
  it('refuses an expired token', () =>
    given([requested()])
      .when(verify(h('a'), later(VERIFICATION_TTL_MS + 1)))
      .thenRefuses('TOKEN_EXPIRED'));
  it('refuses a used token', () =>
    given([requested(), registered])
      .when(verify(h('a')))
      .thenRefuses('TOKEN_USED'));
  it('honours only the latest link after a resend', () =>
    given([
      requested(),
      event('VerificationReissued', {
        userId,
        tokenNonce: nonce,
        tokenHash: h('d'),
        expiresAt: later(1000).toISOString(),
      }),
    ])
      .when(verify(h('a')))
      .thenRefuses('TOKEN_INVALID'));
});

describe('sessions and passwords', () => {
  const session = '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11';
  const loggedIn = event('UserLoggedIn', {
    userId,
    sessionId: session,
    expiresAt: later(SESSION_TTL_MS).toISOString(),
  });
  const loggedOut = event('UserLoggedOut', { userId, sessionId: session });
  const logOut: UserCommand = { type: 'LogOut', data: { sessionId: session } };
  it('gives one answer for an unverified account and a wrong password', () => {
    given([requested()]).when(logIn(true, session)).thenRefuses('INVALID_CREDENTIALS');
    given([requested(), registered]).when(logIn(false, session)).thenRefuses('INVALID_CREDENTIALS');
  });
  it('opens a session on the right password', () =>
    given([requested(), registered]).when(logIn(true, session)).then([loggedIn]));
  it('closes an open session, and does nothing for a closed one', () => {
    given([requested(), registered, loggedIn]).when(logOut).then([loggedOut]);
    given([requested(), registered, loggedIn, loggedOut]).when(logOut).then([]);
  });
  const resetAsked = event('PasswordResetRequested', {
    userId,
    tokenNonce: nonce,
    tokenHash: h('e'),
    expiresAt: later(RESET_TTL_MS).toISOString(),
  });
  it('changes the password with a reset link and ends every session', () =>
    given([requested(), registered, loggedIn, resetAsked])
      .when(resetPassword(h('e')))
      .then([{ type: 'PasswordChanged', data: { userId, passwordHash: argon, endedSessionIds: [session] } }]));
  it('uses a reset link once, and only within the hour', () => {
    const changed = event('PasswordChanged', { userId, passwordHash: argon, endedSessionIds: [] });
    given([requested(), registered, resetAsked, changed])
      .when(resetPassword(h('e')))
      .thenRefuses('TOKEN_USED');
    given([requested(), registered, resetAsked])
      .when(resetPassword(h('e'), later(RESET_TTL_MS + 1)))
      .thenRefuses('TOKEN_EXPIRED');
  });
});

describe('on the account page: changing the password and ending the other sessions', () => {
  const here = '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11';
  const phone = '00000000-0000-4000-8000-000000000002';
  const laptop = '00000000-0000-4000-8000-000000000003';
  const newHash = '$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2g';
  const loggedIn = (sessionId: string) =>
    event('UserLoggedIn', { userId, sessionId, expiresAt: later(SESSION_TTL_MS).toISOString() });
  const account = [requested(), registered, loggedIn(here), loggedIn(phone), loggedIn(laptop)];
  const change = (currentPasswordMatches: boolean, sessionId = here, alreadyNew = false): UserCommand => ({
    type: 'ChangePassword',
    data: { sessionId, currentPasswordMatches, alreadyNew, passwordHash: newHash },
  });
  const endOthers = (sessionId = here): UserCommand => ({ type: 'EndOtherSessions', data: { sessionId } });
  const logOut = (sessionId: string): UserCommand => ({ type: 'LogOut', data: { sessionId } });

  it('changes the password with the right current one, ending every other session and keeping this one', () =>
    given(account)
      .when(change(true))
      .then([
        {
          type: 'PasswordChanged',
          data: { userId, passwordHash: newHash, endedSessionIds: [phone, laptop], keptSessionId: here },
        },
      ]));
  it('refuses a wrong current password beside its field, recording nothing', () =>
    given(account).when(change(false)).thenRefuses('INVALID_CREDENTIALS', ['currentPassword']));
  it('answers the same change sent again (the current password is already the new one) as done, recording nothing', () =>
    given(account)
      .when(change(false, here, true))
      .then([]));
  it('refuses a change from a session that has ended, even with the right password', () => {
    given([...account, event('UserLoggedOut', { userId, sessionId: here })])
      .when(change(true))
      .thenRefuses('SESSION_ENDED');
    // Ended by a change made in another session: its old cookie changes nothing any more.
    const changedOnPhone = event('PasswordChanged', {
      userId,
      passwordHash: newHash,
      endedSessionIds: [here, laptop],
      keptSessionId: phone,
    });
    given([...account, changedOnPhone])
      .when(change(true))
      .thenRefuses('SESSION_ENDED');
    given([...account, changedOnPhone])
      .when(endOthers())
      .thenRefuses('SESSION_ENDED');
  });
  it('keeps the changing session open and the ended ones closed', () => {
    const changed = event('PasswordChanged', {
      userId,
      passwordHash: newHash,
      endedSessionIds: [phone, laptop],
      keptSessionId: here,
    });
    given([...account, changed])
      .when(logOut(here))
      .then([{ type: 'UserLoggedOut', data: { sessionId: here } }]);
    given([...account, changed])
      .when(logOut(phone))
      .then([]);
    // The new password is the one a login checks from now on.
    expect([...account, changed].reduce(userDecider.evolve, userDecider.initialState)).toMatchObject({
      passwordHash: newHash,
    });
  });
  it('uses up a reset link asked for before the change', () => {
    const resetAsked = event('PasswordResetRequested', {
      userId,
      tokenNonce: nonce,
      tokenHash: h('e'),
      expiresAt: later(RESET_TTL_MS).toISOString(),
    });
    const changed = event('PasswordChanged', {
      userId,
      passwordHash: newHash,
      endedSessionIds: [],
      keptSessionId: here,
    });
    given([...account, resetAsked, changed])
      .when(resetPassword(h('e')))
      .thenRefuses('TOKEN_USED');
  });
  it('ends every other open session, and only those', () =>
    given([...account, event('UserLoggedOut', { userId, sessionId: laptop })])
      .when(endOthers())
      .then([{ type: 'SessionsEnded', data: { userId, sessionIds: [phone], keptSessionId: here } }]));
  it('records nothing when no other session is open', () => {
    given([requested(), registered, loggedIn(here)])
      .when(endOthers())
      .then([]);
    const ended = event('SessionsEnded', { userId, sessionIds: [phone, laptop], keptSessionId: here });
    given([...account, ended])
      .when(endOthers())
      .then([]);
    given([...account, ended])
      .when(logOut(phone))
      .then([]);
  });
  it('refuses both for an account that does not exist', () => {
    given([]).when(change(true)).thenRefuses('NOT_FOUND');
    given([requested()]).when(endOthers()).thenRefuses('NOT_FOUND');
  });
});

describe('link emails per account', () => {
  const limit = { max: 3, timeWindowMs: RESET_TTL_MS };
  const issue: IssuedToken = { nonce, tokenHash: h('f') };
  const resend = (ms: number): UserCommand => ({
    type: 'ResendVerification',
    data: issue,
    metadata: { now: later(ms), linkEmailLimit: limit },
  });
  const askReset = (ms: number): UserCommand => ({
    type: 'RequestPasswordReset',
    data: issue,
    metadata: { now: later(ms), linkEmailLimit: limit },
  });
  const reissued = (ms: number, c: string) =>
    event('VerificationReissued', {
      userId,
      tokenNonce: nonce,
      tokenHash: h(c),
      expiresAt: later(ms + VERIFICATION_TTL_MS).toISOString(),
    });
  const resetAsked = (ms: number, c: string) =>
    event('PasswordResetRequested', {
      userId,
      tokenNonce: nonce,
      tokenHash: h(c),
      expiresAt: later(ms + RESET_TTL_MS).toISOString(),
    });

  it('resends a verification link until the account was sent its limit of link emails in the window', () => {
    given([requested(), reissued(60_000, 'b')])
      .when(resend(120_000))
      .then([{ type: 'VerificationReissued' }]);
    given([requested(), reissued(60_000, 'b'), reissued(120_000, 'c')])
      .when(resend(180_000))
      .thenRefuses('TOO_MANY_EMAILS');
  });

  it('counts verification and reset links together, and only those of the last window', () => {
    const history = [requested(), registered, resetAsked(1_000, 'e'), resetAsked(2_000, 'f')];
    given(history).when(askReset(3_000)).thenRefuses('TOO_MANY_EMAILS');
    // The registration's email is older than the window now: one more link may go.
    given(history)
      .when(askReset(RESET_TTL_MS + 1))
      .then([{ type: 'PasswordResetRequested' }]);
  });

  it('still answers an unknown account as unknown, whatever the count', () =>
    given([]).when(askReset(0)).thenRefuses('NOT_FOUND'));
});

describe('pausing and resuming alert emails', () => {
  const resume = (retryRefusedAddress: boolean) =>
    ({ type: 'ResumeAlertEmails', data: { retryRefusedAddress } }) as const;
  it('pauses and resumes, recording nothing when already so', () => {
    given([requested(), registered])
      .when({ type: 'PauseAlertEmails' })
      .then([event('AlertEmailsPaused', { userId })]);
    given([requested(), registered, event('AlertEmailsPaused', { userId })])
      .when(resume(false))
      .then([event('AlertEmailsResumed', { userId })]);
    given([requested(), registered]).when(resume(false)).then([]);
  });
  it('resumes to try a refused address again even when its owner had not paused them', () =>
    given([requested(), registered])
      .when(resume(true))
      .then([event('AlertEmailsResumed', { userId })]));
});

describe('changing the email address', () => {
  const limit = { max: 5, timeWindowMs: RESET_TTL_MS };
  // currentAddress: the handler found it to be the account's address already (it compares them opened).
  const askChange = (
    email: string,
    passwordMatches = true,
    tokenHash = h('1'),
    at = now,
    currentAddress = false,
  ): UserCommand => ({
    type: 'RequestEmailChange',
    data: { email, emailLookup, currentAddress, passwordMatches, nonce, tokenHash },
    metadata: { now: at, linkEmailLimit: limit },
  });
  const confirm = (tokenHash: string, at = now): UserCommand => ({
    type: 'ConfirmEmailChange',
    data: { tokenHash },
    metadata: { now: at },
  });
  const changeAsked = (email: string, tokenHash = h('1'), at = now) =>
    event('EmailChangeRequested', {
      userId,
      email,
      emailLookup,
      tokenNonce: nonce,
      tokenHash,
      expiresAt: new Date(at.getTime() + EMAIL_CHANGE_TTL_MS).toISOString(),
    });
  const changed = event('EmailChanged', {
    userId,
    email: 'lovelace@example.org',
    emailLookup,
    previousEmail: 'ada@example.com',
  });
  const account = [requested(), registered];

  it('records the request with a link that lasts 24 hours, and leaves the address as it is', () =>
    given(account)
      .when(askChange('lovelace@example.org'))
      .then([
        {
          type: 'EmailChangeRequested',
          data: {
            userId,
            email: 'lovelace@example.org',
            tokenNonce: nonce,
            tokenHash: h('1'),
            expiresAt: later(EMAIL_CHANGE_TTL_MS).toISOString(),
          },
        },
      ]));
  it('refuses a wrong password beside the password field', () =>
    given(account).when(askChange('lovelace@example.org', false)).thenRefuses('INVALID_CREDENTIALS', ['password']));
  it('refuses the address the account already has, in any case, beside the email field', () =>
    given(account)
      .when(askChange('ADA@example.com', true, h('1'), now, true))
      .thenRefuses('INVALID_COMMAND', ['email']));
  it('refuses an account that is not registered', () => {
    given([]).when(askChange('lovelace@example.org')).thenRefuses('NOT_FOUND');
    given([requested()]).when(askChange('lovelace@example.org')).thenRefuses('NOT_FOUND');
  });
  it('counts the link emails of address changes with the others, against the per-account cap', () => {
    const fourMore = [1, 2, 3, 4].map((i) => changeAsked(`x${i}@example.org`, h(String(i))));
    // The registration's email and four change links: the fifth link of the hour is the cap.
    given([...account, ...fourMore])
      .when(askChange('lovelace@example.org'))
      .thenRefuses('TOO_MANY_EMAILS');
    given([...account, ...fourMore.slice(1)])
      .when(askChange('lovelace@example.org'))
      .then([{ type: 'EmailChangeRequested' }]);
  });

  it('changes the address when the link is followed, naming the previous one', () =>
    given([...account, changeAsked('lovelace@example.org')])
      .when(confirm(h('1')))
      .then([changed]));
  it('uses a link once', () =>
    given([...account, changeAsked('lovelace@example.org'), changed])
      .when(confirm(h('1')))
      .thenRefuses('TOKEN_USED'));
  it('refuses a link followed after 24 hours', () =>
    given([...account, changeAsked('lovelace@example.org')])
      .when(confirm(h('1'), later(EMAIL_CHANGE_TTL_MS + 1)))
      .thenRefuses('TOKEN_EXPIRED'));
  it('refuses a forged link, and one for an account that asked for no change', () => {
    given([...account, changeAsked('lovelace@example.org')])
      .when(confirm(h('2')))
      .thenRefuses('TOKEN_INVALID');
    given(account)
      .when(confirm(h('1')))
      .thenRefuses('TOKEN_INVALID');
    given([])
      .when(confirm(h('1')))
      .thenRefuses('TOKEN_INVALID');
  });
  it('honours only the latest request, to the address it names', () => {
    const history = [...account, changeAsked('first@example.org', h('1')), changeAsked('second@example.org', h('2'))];
    given(history)
      .when(confirm(h('1')))
      .thenRefuses('TOKEN_INVALID');
    given(history)
      .when(confirm(h('2')))
      .then([{ type: 'EmailChanged', data: { email: 'second@example.org', previousEmail: 'ada@example.com' } }]);
  });
  it('names the changed address as the previous one at the next change, and checks it as the current one', () => {
    const history = [...account, changeAsked('lovelace@example.org'), changed];
    given(history)
      .when(askChange('Lovelace@Example.org', true, h('1'), now, true))
      .thenRefuses('INVALID_COMMAND', ['email']);
    given([...history, changeAsked('countess@example.org', h('3'))])
      .when(confirm(h('3')))
      .then([{ type: 'EmailChanged', data: { email: 'countess@example.org', previousEmail: 'lovelace@example.org' } }]);
  });
  it('cancels a pending change when the password is reset: whoever asked with the old password cannot finish it', () =>
    given([
      ...account,
      changeAsked('intruder@example.org'),
      event('PasswordChanged', { userId, passwordHash: argon, endedSessionIds: [] }),
    ])
      .when(confirm(h('1')))
      .thenRefuses('TOKEN_INVALID'));
});

describe('erasure', () => {
  const session = '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11';
  const deleteAccount = (passwordMatches: boolean): UserCommand => ({
    type: 'DeleteAccount',
    data: { passwordMatches },
  });
  const eraseAccount: UserCommand = { type: 'EraseAccount', data: {} };
  const erased = event('AccountErased', { userId, by: 'owner' });
  const erasedHistory = [requested(), registered, erased];
  const link = (type: 'ResendVerification' | 'RequestPasswordReset'): UserCommand => ({
    type,
    data: { nonce, tokenHash: h('f') },
    metadata: { now, linkEmailLimit: { max: 5, timeWindowMs: RESET_TTL_MS } },
  });

  it('deletes a registered account on its password, and refuses a wrong one beside the password field', () => {
    given([requested(), registered])
      .when(deleteAccount(true))
      .then([{ type: 'AccountErased', data: { userId, by: 'owner' } }]);
    given([requested(), registered]).when(deleteAccount(false)).thenRefuses('INVALID_CREDENTIALS', ['password']);
  });
  it('deletes nothing that is not a registered account, with the same answer as a wrong password', () => {
    given([]).when(deleteAccount(true)).thenRefuses('INVALID_CREDENTIALS');
    given([requested()]).when(deleteAccount(true)).thenRefuses('INVALID_CREDENTIALS');
    given(erasedHistory).when(deleteAccount(true)).thenRefuses('INVALID_CREDENTIALS');
  });
  it('lets an operator erase a registered or a pending account, and no unknown or erased one', () => {
    given([requested(), registered])
      .when(eraseAccount)
      .then([{ type: 'AccountErased', data: { userId, by: 'operator' } }]);
    given([requested()])
      .when(eraseAccount)
      .then([{ type: 'AccountErased', data: { userId, by: 'operator' } }]);
    given([]).when(eraseAccount).thenRefuses('NOT_FOUND');
    given([requested(now.toISOString()), event('RegistrationExpired', { userId, username: 'ada' })])
      .when(eraseAccount)
      .thenRefuses('NOT_FOUND');
    given(erasedHistory).when(eraseAccount).thenRefuses('NOT_FOUND');
  });
  it('lets nobody log in as an erased account: the answer of a wrong password or an unknown user', () => {
    given(erasedHistory).when(logIn(true, session)).thenRefuses('INVALID_CREDENTIALS');
    given([]).when(logIn(true, session)).thenRefuses('INVALID_CREDENTIALS');
  });
  it('sends no link email for an erased account, and takes none of its old links', () => {
    given(erasedHistory).when(link('RequestPasswordReset')).thenRefuses('NOT_FOUND');
    given(erasedHistory).when(link('ResendVerification')).thenRefuses('NOT_FOUND');
    const resetAsked = event('PasswordResetRequested', {
      userId,
      tokenNonce: nonce,
      tokenHash: h('e'),
      expiresAt: later(RESET_TTL_MS).toISOString(),
    });
    given([requested(), registered, resetAsked, erased])
      .when(resetPassword(h('e')))
      .thenRefuses('TOKEN_INVALID');
    // A pending registration's link, erased before it was followed, never makes the account.
    given([requested(), event('AccountErased', { userId, by: 'operator' })])
      .when(verify(h('a')))
      .thenRefuses('TOKEN_INVALID');
    given(erasedHistory).when({ type: 'PauseAlertEmails' }).thenRefuses('NOT_FOUND');
    given(erasedHistory)
      .when({ type: 'ResumeAlertEmails', data: { retryRefusedAddress: true } })
      .thenRefuses('NOT_FOUND');
    given(erasedHistory)
      .when({ type: 'LogOut', data: { sessionId: session } })
      .then([]);
  });
  it('frees the username: someone else registers it anew, and that account starts from nothing of the old one', () => {
    given(erasedHistory)
      .when(register())
      .then([{ type: 'RegistrationRequested', data: { userId, username: 'ada' } }]);
    const anew = [...erasedHistory, requested(later(VERIFICATION_TTL_MS).toISOString(), h('c'))];
    given(anew)
      .when(verify(h('c')))
      .then([registered]);
    // The old verification link stays used; the new account has no session of the old one to end.
    given(anew)
      .when(verify(h('a')))
      .thenRefuses('TOKEN_USED');
    given([...anew, registered])
      .when(resetPassword(h('e')))
      .thenRefuses('TOKEN_INVALID');
    given([...anew, registered])
      .when({ type: 'LogOut', data: { sessionId: session } })
      .then([]);
    given([...anew, registered])
      .when(logIn(true, session))
      .then([{ type: 'UserLoggedIn' }]);
  });
});
