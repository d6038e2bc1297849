import { describe, expect, it } from 'vitest';
import { event, linkEmailKey, namespaceFor, type DomainEvent } from '../../events/index.ts';
import type { StoredEvents } from '../../platform/eventStore/index.ts';
import { exportDocument, exportFileName } from './export.ts';
import { currentAccountEvents, eventsOf, linkEmailSubjects, withoutSecrets } from './ownEvents.ts';
import { testUserId } from '../../test/personalKeys.ts';

const userId = testUserId('ada');
const ns = namespaceFor('t1');
const argon = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const at = (seq: number) => `2026-11-0${seq}T10:00:00.000Z`;
const message = (seq: number, ...events: DomainEvent[]): StoredEvents => ({
  seq,
  subject: `t1.cra.events.user.${userId}`,
  events,
  meta: { occurredAt: at(seq), correlationId: 'c', causationId: 'c' },
});
const requested = (email: string, tokenNonce: string) =>
  event('RegistrationRequested', {
    userId,
    username: 'ada',
    email,
    passwordHash: argon,
    tokenNonce,
    tokenHash: 'ab'.repeat(32),
    expiresAt: '2026-11-09T10:00:00.000Z',
  });

/** The username `ada` was first asked for by someone else, whose registration lapsed; then Ada registered it. */
const subjectHistory = [
  message(1, requested('someone.else@example.com', 'n'.repeat(21) + '1')),
  message(
    2,
    event('RegistrationExpired', { userId, username: 'ada' }),
    requested('ada@example.com', 'n'.repeat(21) + '2'),
  ),
  message(3, event('UserRegistered', { userId, username: 'ada', email: 'ada@example.com' })),
  message(
    4,
    event('PasswordResetRequested', {
      userId,
      tokenNonce: 'n'.repeat(21) + '3',
      tokenHash: 'cd'.repeat(32),
      expiresAt: '2026-11-09T11:00:00.000Z',
    }),
  ),
];

describe('the events of the current account', () => {
  it('start at the registration request it was verified by: an earlier, lapsed registration of the username is not this person’s', () => {
    const own = currentAccountEvents(eventsOf(subjectHistory));
    expect(own.map((e) => [e.seq, e.position, e.type])).toEqual([
      [2, 1, 'RegistrationRequested'],
      [3, 0, 'UserRegistered'],
      [4, 0, 'PasswordResetRequested'],
    ]);
    expect(JSON.stringify(own)).not.toContain('someone.else@example.com');
    expect(own[0]!.time).toBe(at(2));
  });

  it('find the emails of this account’s own links, not those of the lapsed registration', () => {
    const own = currentAccountEvents(eventsOf(subjectHistory));
    expect(linkEmailSubjects({ ns }, userId, own)).toEqual([
      `t1.cra.events.email.${linkEmailKey('verify', userId, 'n'.repeat(21) + '2')}`,
      `t1.cra.events.email.${linkEmailKey('reset', userId, 'n'.repeat(21) + '3')}`,
    ]);
  });

  it('are none for a subject without a registration', () => {
    expect(currentAccountEvents([])).toEqual([]);
  });

  it('withhold the values of password and token hashes, and keep everything else', () => {
    const [registration] = currentAccountEvents(eventsOf(subjectHistory)).map(withoutSecrets);
    expect(registration!.data).toEqual({
      userId,
      username: 'ada',
      email: 'ada@example.com',
      passwordHash: 'withheld',
      tokenNonce: 'n'.repeat(21) + '2',
      tokenHash: 'withheld',
      expiresAt: '2026-11-09T10:00:00.000Z',
    });
    expect(withoutSecrets(eventsOf([message(5, event('AlertEmailsPaused', { userId }))])[0]!).data).toEqual({
      userId,
    });
  });
});

describe('the export document', () => {
  const now = new Date('2026-11-20T08:30:00.000Z');
  const account = {
    username: 'ada',
    email: 'ada@example.com',
    status: 'registered',
    registeredAt: new Date(at(3)),
    alertEmailsPaused: true,
  };
  const alert = (alertId: string, setSeq: number, deletedAt: Date | null = null) => ({
    alertId,
    base: 'EUR',
    quote: 'USD',
    threshold: '1.08',
    setSeq,
    setAt: new Date(at(setSeq)),
    deletedAt,
  });
  const trigger = (alertId: string) => ({
    alertId,
    runSeq: 7,
    previousRatio: '1.07',
    currentRatio: '1.09',
    direction: 'up',
    triggeredAt: new Date(at(7)),
  });

  it('marks deleted alerts, and keeps only rows of the account that starts at `since`', () => {
    const document = exportDocument(
      {
        userId,
        account,
        alerts: [alert('older', 1), alert('kept', 5), alert('gone', 6, new Date(at(8)))],
        triggers: [trigger('older'), trigger('kept')],
        events: [],
        since: 2,
      },
      now,
    );
    expect(document.exportedAt).toBe('2026-11-20T08:30:00.000Z');
    expect(document.account).toEqual({
      userId,
      username: 'ada',
      email: 'ada@example.com',
      status: 'registered',
      registeredAt: at(3),
      alertEmailsPaused: true,
    });
    expect(document.alerts).toEqual([
      { alertId: 'kept', pair: 'EUR/USD', threshold: '1.08', setAt: at(5), deleted: false, deletedAt: null },
      { alertId: 'gone', pair: 'EUR/USD', threshold: '1.08', setAt: at(6), deleted: true, deletedAt: at(8) },
    ]);
    expect(document.triggers.map((t) => t.alertId)).toEqual(['kept']);
    expect(document.about).toContain('passwordHash, tokenHash, secret are "withheld"');
  });

  it('is named for its owner and the day it was taken', () => {
    expect(exportFileName('ada.l-1_x', now)).toBe('cra-data-ada.l-1_x-2026-11-20.json');
  });
});
