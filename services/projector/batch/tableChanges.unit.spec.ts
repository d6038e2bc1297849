import { describe, expect, it } from 'vitest';
import { event, type DomainEvent } from '../../../events/index.ts';
import type { StoredMessage } from '../storedMessage.ts';
import { tableChanges } from './tableChanges.ts';

const ada = 'u0123456789abcdef0123456789abcdef';
const bob = 'ubbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const hash = 'ab'.repeat(32);
const nonce = 'n'.repeat(22);
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const session = '6f1c1f0e-8d7a-4a43-9a52-1b2f0f6f3e11';
const at = (seq: number) => `2026-11-02T10:00:${String(seq).padStart(2, '0')}.000Z`;

const requested = (userId: string, email: string, expiresAt: string, username = 'ada') =>
  event('RegistrationRequested', {
    userId,
    username,
    email,
    passwordHash: argon,
    tokenNonce: nonce,
    tokenHash: hash,
    expiresAt,
  });
const reissued = (userId: string, expiresAt: string) =>
  event('VerificationReissued', { userId, tokenNonce: nonce, tokenHash: hash, expiresAt });
const loggedIn = (sessionId: string, expiresAt = '2026-11-09T00:00:00.000Z') =>
  event('UserLoggedIn', { userId: ada, sessionId, expiresAt });
const loggedOut = (sessionId: string) => event('UserLoggedOut', { userId: ada, sessionId });

/** One message per event, at sequences 1, 2, 3… */
function log(...events: DomainEvent[]): StoredMessage[] {
  return events.map((e, i) => ({
    raw: { seq: i + 1, subject: `s.${i + 1}`, headers: {}, body: new Uint8Array(), pending: 0 },
    events: [e],
    occurredAt: at(i + 1),
  }));
}

describe('tableChanges: users', () => {
  it('a registration and what follows it become one new row in its end state, and one change for a row already there', () => {
    const changes = tableChanges(
      log(
        event('AlertEmailsPaused', { userId: ada }), // before the row exists: only a row already there takes it
        requested(ada, 'ada@old.example', '2026-11-03T00:00:00.000Z'),
        reissued(ada, '2026-11-04T00:00:00.000Z'),
        event('UserRegistered', { userId: ada, username: 'ada', email: 'ada@old.example' }),
      ),
    );
    expect(changes.newUsers).toEqual([
      {
        userId: ada,
        username: 'ada',
        email: 'ada@old.example',
        emailLookup: null,
        status: 'registered',
        pendingExpiresAt: null,
        registeredAt: at(4),
        alertEmailsPaused: false,
        refused: null,
        updatedSeq: 4,
      },
    ]);
    expect(changes.userChanges).toEqual([
      {
        userId: ada,
        email: 'ada@old.example',
        status: 'registered',
        pendingExpiresAt: null,
        registeredAt: at(4),
        alertEmailsPaused: true,
        updatedSeq: 4,
      },
    ]);
    // Both expiry times were overwritten, yet one at a time Postgres would have read them.
    expect(changes.overwrittenTimestamps).toEqual(['2026-11-03T00:00:00.000Z', '2026-11-04T00:00:00.000Z']);
  });

  it('a second registration keeps the first username and the paused flag, and takes the latest email', () => {
    const changes = tableChanges(
      log(
        requested(ada, 'first@example.com', '2026-11-03T00:00:00.000Z'),
        event('AlertEmailsPaused', { userId: ada }),
        event('RegistrationExpired', { userId: ada, username: 'ada' }),
        requested(ada, 'second@example.com', '2026-11-05T00:00:00.000Z', 'other'),
      ),
    );
    expect(changes.newUsers).toEqual([
      {
        userId: ada,
        username: 'ada',
        email: 'second@example.com',
        emailLookup: null,
        status: 'pending',
        pendingExpiresAt: '2026-11-05T00:00:00.000Z',
        registeredAt: null,
        alertEmailsPaused: true,
        refused: null,
        updatedSeq: 4,
      },
    ]);
    expect(changes.overwrittenTimestamps).toEqual(['2026-11-03T00:00:00.000Z']);
  });

  it('records a refusal for good of the account’s address, not of another or a bound reached; resuming clears it', () => {
    const undeliverable = (kind: 'alert-digest' | 'email-change', permanent: boolean, email: string) =>
      event('EmailUndeliverable', {
        userId: bob,
        kind,
        reference: 'r',
        attempt: 1,
        permanent,
        code: 550,
        detail: 'SMTP 550 5.1.1',
        email,
        firstAttemptAt: at(1),
      });
    const refused = tableChanges(
      log(
        undeliverable('alert-digest', true, 'bob@example.com'),
        undeliverable('email-change', true, 'new@example.com'),
        undeliverable('alert-digest', false, 'bob@example.com'),
      ),
    );
    expect(refused.userChanges).toEqual([
      { userId: bob, refused: { email: 'bob@example.com', detail: 'SMTP 550 5.1.1', at: at(1) }, updatedSeq: 1 },
    ]);
    const resumed = tableChanges(
      log(undeliverable('alert-digest', true, 'bob@example.com'), event('AlertEmailsResumed', { userId: bob })),
    );
    expect(resumed.userChanges).toEqual([{ userId: bob, refused: null, alertEmailsPaused: false, updatedSeq: 2 }]);
  });

  it('updates alone change only the fields they set, and create nothing', () => {
    const changes = tableChanges(
      log(event('AlertEmailsPaused', { userId: bob }), event('RegistrationExpired', { userId: bob, username: 'bob' })),
    );
    expect(changes.newUsers).toEqual([]);
    expect(changes.userChanges).toEqual([{ userId: bob, alertEmailsPaused: true, status: 'expired', updatedSeq: 2 }]);
    expect(changes.overwrittenTimestamps).toEqual([]);
  });
});

describe('tableChanges: sessions and alerts', () => {
  it('a close before the login in the same batch ends only a session that existed before; a new one takes the first close after it', () => {
    const other = '00000000-0000-4000-8000-000000000002';
    const changes = tableChanges(
      log(
        loggedOut(session),
        loggedIn(session),
        loggedIn(other),
        event('PasswordChanged', { userId: ada, passwordHash: argon, endedSessionIds: [other.toUpperCase(), session] }),
        loggedOut(session),
      ),
    );
    expect(changes.sessionCloses).toEqual([
      { sessionId: session, closedAt: at(1) },
      { sessionId: other.toUpperCase(), closedAt: at(4) },
    ]);
    expect(changes.newSessions).toEqual([
      { sessionId: session, userId: ada, openedAt: at(2), expiresAt: '2026-11-09T00:00:00.000Z', closedAt: at(4) },
      { sessionId: other, userId: ada, openedAt: at(3), expiresAt: '2026-11-09T00:00:00.000Z', closedAt: at(4) },
    ]);
  });

  it('keeps every insert of a repeated key in log order, each closed by the first close after it', () => {
    const set = (threshold: string) =>
      event('AlertSet', { alertId: 'a1', userId: ada, base: 'EUR', quote: 'USD', threshold });
    const changes = tableChanges(
      log(
        set('1.1'),
        event('AlertDeleted', { alertId: 'a1', userId: ada }),
        set('1.2'),
        event('AlertDeleted', { alertId: 'a1', userId: ada }),
      ),
    );
    expect(changes.newAlerts.map((a) => [a.rule.threshold, a.setSeq, a.deletedSeq])).toEqual([
      ['1.1', 1, 2],
      ['1.2', 3, 4],
    ]);
    expect(changes.alertDeletions).toEqual([{ alertId: 'a1', deletedSeq: 2, deletedAt: at(2) }]);
  });
});

describe('tableChanges: append-only tables', () => {
  it('writes a history line per event at its position, and parks a message it cannot read', () => {
    const messages: StoredMessage[] = [
      {
        raw: { seq: 7, subject: 's.7', headers: { a: 'b' }, body: new TextEncoder().encode('{x\u0000'), pending: 0 },
        unreadable: 'body is not JSON',
      },
      {
        raw: { seq: 8, subject: 's.8', headers: {}, body: new Uint8Array(), pending: 0 },
        events: [loggedIn(session), loggedOut(session)],
        occurredAt: at(8),
      },
      ...log(
        event('EmailClaimed', { userId: ada, kind: 'alert-digest', reference: 'r', claimedBy: 'n1', until: at(9) }),
      ),
    ];
    const changes = tableChanges(messages);
    expect(changes.parked).toEqual([
      { seq: 7, subject: 's.7', reason: 'body is not JSON', headers: '{"a":"b"}', body: '{x\uFFFD' },
    ]);
    expect(changes.activity.map((a) => [a.seq, a.position, a.type, a.summary])).toEqual([
      [8, 0, 'UserLoggedIn', 'Logged in'],
      [8, 1, 'UserLoggedOut', 'Logged out'],
    ]);
    expect(changes.newSessions[0]!.closedAt).toBe(at(8));
  });
});
