import { describe, expect, it } from 'vitest';
import { event } from '../../events/index.ts';
import { decideClaim, viewOf } from './emailClaims.ts';

const userId = 'u0123456789abcdef0123456789abcdef';
const now = new Date('2026-11-27T12:00:00.000Z');
const claimed = (claimedBy: string, until: string) =>
  event('EmailClaimed', { userId, kind: 'alert-digest', reference: '7.u', claimedBy, until });
const trigger = event('AlertTriggered', {
  alertId: 'a1',
  userId,
  runSeq: 7,
  base: 'EUR',
  quote: 'USD',
  threshold: '1.08',
  previousRatio: '1.07',
  currentRatio: '1.09',
  direction: 'up',
});
const sent = event('EmailSent', { userId, kind: 'alert-digest', messageId: '<d@x>', reference: '7.u' });

describe('who may send an email, from what its subject records', () => {
  it('an email recorded as sent is never sent again, whoever claimed it', () => {
    expect(decideClaim(viewOf([trigger, claimed('me', '2026-11-27T12:01:00.000Z'), sent]), 'me', now)).toEqual({
      do: 'nothing',
    });
    expect(decideClaim(viewOf([sent]), 'me', now)).toEqual({ do: 'nothing' });
  });

  it('an unclaimed email (triggers recorded before claims existed) is claimed first', () => {
    expect(decideClaim(viewOf([trigger]), 'me', now)).toEqual({ do: 'claim' });
    expect(decideClaim(viewOf([]), 'me', now)).toEqual({ do: 'claim' });
  });

  it('its holder sends under a claim that still holds; anyone else waits until it lapses', () => {
    const view = viewOf([trigger, claimed('me', '2026-11-27T12:01:00.000Z')]);
    expect(decideClaim(view, 'me', now)).toEqual({ do: 'send' });
    expect(decideClaim(view, 'other', now)).toEqual({ do: 'wait', until: '2026-11-27T12:01:00.000Z' });
  });

  it('a lapsed claim (its holder died) is claimed again, by anyone, its old holder too', () => {
    const view = viewOf([trigger, claimed('dead', '2026-11-27T12:00:00.000Z')]);
    expect(decideClaim(view, 'other', now)).toEqual({ do: 'claim' });
    expect(decideClaim(view, 'dead', now)).toEqual({ do: 'claim' });
  });

  it('the latest claim is the one that counts', () => {
    const view = viewOf([
      trigger,
      claimed('first', '2026-11-27T11:59:00.000Z'),
      claimed('second', '2026-11-27T12:02:00.000Z'),
    ]);
    expect(decideClaim(view, 'first', now)).toEqual({ do: 'wait', until: '2026-11-27T12:02:00.000Z' });
    expect(decideClaim(view, 'second', now)).toEqual({ do: 'send' });
  });
});

describe('an email that failed', () => {
  const deferred = (attempt: number, retryAt: string) =>
    event('EmailDeferred', {
      userId,
      kind: 'alert-digest',
      reference: '7.u',
      attempt,
      code: 451,
      detail: 'SMTP 451 4.7.1',
      retryAt,
      firstAttemptAt: '2026-11-27T11:58:00.000Z',
    });
  const undeliverable = event('EmailUndeliverable', {
    userId,
    kind: 'alert-digest',
    reference: '7.u',
    attempt: 1,
    permanent: true,
    code: 550,
    detail: 'SMTP 550 5.1.1',
    email: 'ada@example.com',
    firstAttemptAt: '2026-11-27T11:58:00.000Z',
  });

  it('for now is neither claimed nor sent by anyone, its holder too, before its last retry is due', () => {
    const view = viewOf([
      trigger,
      claimed('me', '2026-11-27T12:01:00.000Z'),
      deferred(1, '2026-11-27T11:59:00.000Z'),
      deferred(2, '2026-11-27T12:00:30.000Z'),
    ]);
    expect(decideClaim(view, 'me', now)).toEqual({ do: 'later', until: '2026-11-27T12:00:30.000Z' });
    expect(decideClaim(view, 'other', now)).toEqual({ do: 'later', until: '2026-11-27T12:00:30.000Z' });
    const due = new Date('2026-11-27T12:00:30.000Z');
    expect(decideClaim(view, 'me', due)).toEqual({ do: 'send' });
    expect(decideClaim(view, 'other', due)).toEqual({ do: 'wait', until: '2026-11-27T12:01:00.000Z' });
  });

  it('for good (or past the bound) is done: nobody sends it again', () => {
    const view = viewOf([trigger, claimed('me', '2026-11-27T12:01:00.000Z'), undeliverable]);
    expect(decideClaim(view, 'me', now)).toEqual({ do: 'nothing' });
    expect(decideClaim(view, 'other', new Date('2026-11-28T12:00:00.000Z'))).toEqual({ do: 'nothing' });
  });
});
