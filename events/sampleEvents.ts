import type { DomainEvent } from './catalog.ts';
import { event } from './catalog.ts';

const userId = 'u0123456789abcdef0123456789abcdef';
const hash = 'ab'.repeat(32);
const nonce = 'n'.repeat(22);
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';

/** One valid example of every event in the catalog (tests, docs); typed so a new event type must be added. */
export const sampleEvents: { [K in DomainEvent['type']]: Extract<DomainEvent, { type: K }> } = {
  RegistrationRequested: event('RegistrationRequested', {
    userId,
    username: 'ada',
    email: 'ada@example.com',
    passwordHash: argon,
    tokenNonce: nonce,
    tokenHash: hash,
    expiresAt: '2026-11-03T10:00:00.000Z',
  }),
  VerificationReissued: event('VerificationReissued', {
    userId,
    tokenNonce: nonce,
    tokenHash: hash,
    expiresAt: '2026-11-03T11:00:00.000Z',
  }),
  UserRegistered: event('UserRegistered', { userId, username: 'ada', email: 'ada@example.com' }),
  RegistrationExpired: event('RegistrationExpired', { userId, username: 'ada' }),
  UserLoggedIn: event('UserLoggedIn', {
    userId,
    sessionId: '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11',
    expiresAt: '2026-11-10T10:00:00.000Z',
  }),
  UserLoggedOut: event('UserLoggedOut', { userId, sessionId: '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11' }),
  PasswordResetRequested: event('PasswordResetRequested', {
    userId,
    tokenNonce: nonce,
    tokenHash: hash,
    expiresAt: '2026-11-03T11:00:00.000Z',
  }),
  PasswordChanged: event('PasswordChanged', {
    userId,
    passwordHash: argon,
    endedSessionIds: ['6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11'],
    keptSessionId: '00000000-0000-4000-8000-000000000002',
  }),
  SessionsEnded: event('SessionsEnded', {
    userId,
    sessionIds: ['6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11'],
    keptSessionId: '00000000-0000-4000-8000-000000000002',
  }),
  EmailChangeRequested: event('EmailChangeRequested', {
    userId,
    email: 'ada.lovelace@example.org',
    emailLookup: 'bG9va3VwLWhhc2gtb2YtYWRhLmxvdmVsYWNlQGV4YW0',
    tokenNonce: nonce,
    tokenHash: hash,
    expiresAt: '2026-11-03T12:00:00.000Z',
  }),
  EmailChanged: event('EmailChanged', {
    userId,
    email: 'ada.lovelace@example.org',
    emailLookup: 'bG9va3VwLWhhc2gtb2YtYWRhLmxvdmVsYWNlQGV4YW0',
    previousEmail: 'ada@example.com',
  }),
  AlertEmailsPaused: event('AlertEmailsPaused', { userId }),
  AlertEmailsResumed: event('AlertEmailsResumed', { userId }),
  AccountErased: event('AccountErased', { userId, by: 'owner' }),
  AlertSet: event('AlertSet', { alertId: 'a1', userId, base: 'EUR', quote: 'USD', threshold: '1.0825' }),
  AlertDeleted: event('AlertDeleted', { alertId: 'a1', userId }),
  RatesFetched: event('RatesFetched', {
    provider: 'frankfurter',
    base: 'EUR',
    asOf: '2026-11-02',
    fetchedAt: '2026-11-02T16:05:00.000Z',
    rates: { EUR: '1', USD: '1.0825', JPY: '163.42' },
  }),
  AlertTriggered: event('AlertTriggered', {
    alertId: 'a1',
    userId,
    runSeq: 7,
    base: 'EUR',
    quote: 'USD',
    threshold: '1.08',
    previousRatio: '1.0790',
    currentRatio: '1.0825',
    direction: 'up',
  }),
  EmailClaimed: event('EmailClaimed', {
    userId,
    kind: 'alert-digest',
    reference: '7.u1',
    claimedBy: 'notifier-3f9a',
    until: '2026-11-02T16:07:00.000Z',
  }),
  EmailSent: event('EmailSent', {
    userId,
    kind: 'alert-digest',
    messageId: '<digest.7.u1@localhost>',
    reference: 'run-7',
  }),
  ChannelAdded: event('ChannelAdded', {
    channelId: 'c1',
    userId,
    url: 'https://hooks.example.com/services/T000/B000/XXXX',
    format: 'slack',
    secret: 'sealed:v1:1:c2VhbGVkLXNlY3JldA',
  }),
  ChannelTestRequested: event('ChannelTestRequested', { channelId: 'c1', userId, testId: 't1' }),
  ChannelPaused: event('ChannelPaused', { channelId: 'c1', userId, reason: 'owner' }),
  ChannelResumed: event('ChannelResumed', { channelId: 'c1', userId }),
  ChannelDeleted: event('ChannelDeleted', { channelId: 'c1', userId }),
  WebhookClaimed: event('WebhookClaimed', {
    channelId: 'c1',
    userId,
    reference: '7',
    claimedBy: 'notifier-3f9a',
    until: '2026-11-02T16:07:00.000Z',
  }),
  WebhookAttempted: event('WebhookAttempted', {
    channelId: 'c1',
    userId,
    reference: '7',
    webhookId: 'msg_7_c1',
    attempt: 1,
    outcome: 'retry',
    status: 503,
    detail: 'HTTP 503',
    retryAt: '2026-11-02T16:06:05.000Z',
    firstAttemptAt: '2026-11-02T16:05:55.000Z',
  }),
};
