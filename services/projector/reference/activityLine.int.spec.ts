import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvents, eventTypes, type DomainEvent, type EventType } from '../../../events/index.ts';
import { sampleEvents } from '../../../events/sampleEvents.ts';
import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { tablesIn } from '../../../platform/postgres.ts';
import { openTestWorld, type TestWorld } from '../../../test/harness.ts';
import { applyBatch, migrateSchema } from '../projector.ts';

let world: TestWorld;
beforeAll(async () => {
  world = await openTestWorld();
});
afterAll(async () => world?.close());

/**
 * Whether an event changes what its user sees, and where (or why not). The web keeps a user's rendered pages until
 * their newest activity row or the newest run changes (web/shared/openSessions.ts, web/alerts/keptMarkup/renderedPages.ts), so each visible event
 * must leave an activity row. Keyed by event type: a new type does not compile until it is classified here.
 */
const seenByItsUser: { [T in EventType]: { visible: string } | { invisible: string } } = {
  RegistrationRequested: {
    invisible: 'the account is pending: no session, so no page of its user is rendered or kept',
  },
  VerificationReissued: { invisible: 'the account is pending: no session, so no page of its user is rendered or kept' },
  RegistrationExpired: { invisible: 'the account was never verified, so it never had a session' },
  UserRegistered: { visible: 'the Activity page' },
  UserLoggedIn: { visible: 'the Activity page' },
  UserLoggedOut: { visible: 'the Activity page' },
  PasswordResetRequested: { visible: 'the Activity page' },
  PasswordChanged: { visible: 'every session ends (or every other one); the Activity page' },
  SessionsEnded: { visible: 'the account page no longer lists the sessions; the Activity page' },
  EmailChangeRequested: { visible: 'the Activity page' },
  EmailChanged: { visible: 'the account page shows the new address; the Activity page' },
  AlertEmailsPaused: { visible: 'the alerts page says alert emails are paused' },
  AlertEmailsResumed: { visible: 'the alerts page says alert emails are on' },
  AlertSet: { visible: 'the alerts page lists the alert' },
  AlertEdited: { visible: 'the alerts page shows the alert’s new rule' },
  AlertPaused: { visible: 'the alerts page shows the alert paused' },
  AlertResumed: { visible: 'the alerts page shows the alert active again' },
  AlertRearmed: { visible: 'the alerts page shows the alert armed again' },
  AlertDeleted: { visible: 'the alerts page no longer lists the alert' },
  AlertTriggered: { visible: 'the alerts page and the Activity page' },
  RatesFetched: { invisible: 'it belongs to no user: every user’s pages are versioned by the newest run as well' },
  EmailClaimed: { invisible: 'it changes no read model: only the notifiers read a claim, from its own subject' },
  EmailSent: { visible: 'the Activity page (all but the erasure confirmation, sent once the account is gone)' },
  EmailDeferred: { visible: 'the Activity page (all but the erasure confirmation’s)' },
  EmailUndeliverable: {
    visible: 'the alerts page says alert emails to a refused address are paused; the Activity page',
  },
  AccountErased: { invisible: 'the account is gone, with every row of it: no page of its user is left to render' },
  ChannelAdded: { visible: 'the channels page lists it; the Activity page' },
  ChannelTestRequested: { visible: 'the Activity page' },
  ChannelPaused: { visible: 'the channels page says it is paused; the Activity page' },
  ChannelResumed: { visible: 'the channels page says it is on; the Activity page' },
  ChannelDeleted: { visible: 'the channels page no longer lists it; the Activity page' },
  WebhookClaimed: { invisible: 'it changes no read model: only the notifiers read a claim, from its own subject' },
  WebhookAttempted: { visible: 'the channels page shows the last delivery; the Activity page' },
};

const otherUser = 'u00000000000000000000000000000009';
const meta = { occurredAt: '2026-11-02T16:10:00.000Z', correlationId: 'c', causationId: 'c' };
/** One message per event type, its sample, at sequences 1, 2, 3… in catalog order. */
const samples: { type: EventType; event: DomainEvent; raw: RawMessage }[] = eventTypes.map((type, i) => {
  // The erasure's sample is of another user: erasing the samples' user would take the rows this test looks for.
  const event: DomainEvent =
    type === 'AccountErased' ? { type, data: { ...sampleEvents[type].data, userId: otherUser } } : sampleEvents[type];
  return { type, event, raw: { seq: i + 1, subject: `s.${i + 1}`, ...encodeEvents([event], meta), pending: 0 } };
});
const userOf = (event: DomainEvent) => ('userId' in event.data ? event.data.userId : undefined);

describe('every event that changes what its user sees leaves an activity row for that user, and no other event does', () => {
  it.each([
    ['the set-based batch', false],
    ['the one-at-a-time reference', true],
  ])('through %s', async (name, oneByOne) => {
    const schema = `${world.schema}_${oneByOne ? 'reference' : 'batch'}`;
    await migrateSchema(world.pool, schema);
    await applyBatch(
      world.pool,
      schema,
      samples.map((s) => s.raw),
      {},
      world.logger,
      oneByOne,
    );
    const t = tablesIn(schema);
    expect((await world.pool.query(`SELECT seq, reason FROM ${t('parked_events')}`)).rows, name).toEqual([]);
    const { rows } = await world.pool.query<{ seq: string; user_id: string; type: string }>(
      `SELECT seq, user_id, type FROM ${t('activity')}`,
    );
    for (const { type, event, raw } of samples) {
      const left = rows.filter((r) => Number(r.seq) === raw.seq).map((r) => ({ user: r.user_id, type: r.type }));
      const expected = 'visible' in seenByItsUser[type] ? [{ user: userOf(event), type }] : [];
      expect(left, `${type} (${JSON.stringify(seenByItsUser[type])})`).toEqual(expected);
    }
  });
});
