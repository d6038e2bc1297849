import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeEvents,
  eventTypes,
  namespaceFor,
  namespaceOfStream,
  personalFields,
  userIdFor,
  type DomainEvent,
  type EventType,
} from '../events/index.ts';
import { sampleEvents } from '../events/sampleEvents.ts';
import { deriveKeys, lookupHash } from '../platform/personalData/index.ts';
import { seal, unseal } from '../platform/personalData/sealed.ts';
import { linkToken, tokenHash } from '../platform/tokens.ts';
import {
  copiedMessage,
  keysNeeded,
  plainUserIdFor,
  plainUsernames,
  withNewIds,
  type CopyContext,
} from './copiedMessage.ts';

const keys = deriveKeys(randomBytes(32));
const secret = randomBytes(32);
const oldId = plainUserIdFor('ada');
const newId = userIdFor('ada', keys.userIds);
const targetKey = { key: randomBytes(32), revision: 7 };
const sourceKey = { key: randomBytes(32), revision: 3 };
const context: CopyContext = {
  ids: new Map([[oldId, newId]]),
  targetKeys: new Map([[newId, targetKey]]),
  sourceKeys: new Map([[oldId, sourceKey]]),
  lookupsKey: keys.lookups,
  linkSecret: secret,
};
const meta = { occurredAt: '2026-11-02T16:05:00.000Z', correlationId: `reset-${oldId}-n`, causationId: 'c' };
const nonce = 'n'.repeat(22);
const purposes = {
  RegistrationRequested: 'verify',
  VerificationReissued: 'verify',
  PasswordResetRequested: 'reset',
  EmailChangeRequested: 'email-change',
} as const;

/** The sample of a type as the old code wrote it: ada's plain-hash id everywhere, tokens made for it, plain fields. */
function oldEvent(type: EventType): DomainEvent {
  const data = JSON.parse(
    JSON.stringify(sampleEvents[type].data).replaceAll('u0123456789abcdef0123456789abcdef', oldId),
  );
  data.userId &&= oldId;
  if (type in purposes)
    data.tokenHash = tokenHash(linkToken(secret, purposes[type as keyof typeof purposes], oldId, nonce));
  // An email's reference and Message-ID name the person; a webhook delivery's (a run, or a test) name nobody.
  if ('reference' in data && !type.startsWith('Webhook')) data.reference = `verify-${oldId}-${nonce}`;
  if ('messageId' in data) data.messageId = `<verify.${oldId}.${nonce}@cra.test>`;
  // A field that is always sealed (a channel's signing secret) comes sealed under the person's key in the old bucket.
  for (const [field, kind] of Object.entries(personalFields[type] ?? {}))
    if (typeof data[field] === 'string' && data[field].startsWith('sealed:'))
      data[field] = seal(sourceKey.key, sourceKey.revision, oldId, kind!, `${field} of ada`);
  return { type, data } as DomainEvent;
}

const copyOf = (events: DomainEvent[], headers: Record<string, string> = {}, ctx = context) =>
  copiedMessage({ subject: `old.cra.events.user.${oldId}`, headers, events, meta }, ctx);
const decoded = (copy: ReturnType<typeof copyOf>) => decodeEvents(copy.headers, copy.body);
const opened = (data: Record<string, unknown>, field: string, kind: string) =>
  unseal(targetKey.key, newId, kind, data[field] as string);

describe('a message of a log written before sealing, as the new stream holds it', () => {
  it('knows the user id the old code derived: a plain SHA-256 of the normalised username', () => {
    expect(plainUserIdFor(' Ada ')).toBe('ufdee430d40bd57deeac186cd9790033d');
    expect(plainUsernames([oldEvent('RegistrationRequested'), oldEvent('UserLoggedIn')])).toEqual([
      { userId: oldId, username: 'ada' },
    ]);
  });

  it.each(eventTypes)(
    '%s: the user id re-derived, every personal field sealed under the new key, nothing plain',
    (type) => {
      const before = oldEvent(type);
      const copy = copyOf([before]);
      const text = Buffer.from(copy.body).toString();
      expect(text).not.toContain(oldId);
      expect(text).not.toMatch(/ada@|ada\.lovelace|"ada"/);
      const after = decoded(copy).events[0]!;
      expect(after.type).toBe(type);
      const data = after.data as Record<string, unknown>;
      const old = before.data as Record<string, unknown>;
      if ('userId' in old) expect(data.userId).toBe(newId);
      for (const [field, kind] of Object.entries(personalFields[type] ?? {}))
        expect(opened(data, field, kind!)).toBe(
          String(old[field]).startsWith('sealed:')
            ? unseal(sourceKey.key, oldId, kind!, old[field] as string)
            : old[field],
        );
      if (type in purposes) {
        const purpose = purposes[type as keyof typeof purposes];
        expect(data.tokenHash).toBe(tokenHash(linkToken(secret, purpose, newId, nonce)));
      }
      const unchanged = Object.keys(old).filter(
        (f) =>
          !['userId', 'tokenHash', 'reference', 'messageId', 'emailLookup'].includes(f) &&
          !(f in (personalFields[type] ?? {})),
      );
      for (const f of unchanged) expect(data[f], f).toEqual(old[f]);
    },
  );

  it('gives a registration written before sealing the lookup hash of its address, and a new address a fresh one', () => {
    const registration = decoded(copyOf([oldEvent('RegistrationRequested')])).events[0]!.data as Record<
      string,
      unknown
    >;
    expect(registration.emailLookup).toBe(lookupHash(keys.lookups, 'email', 'ada@example.com'));
    const changed = decoded(copyOf([oldEvent('EmailChanged')])).events[0]!.data as Record<string, unknown>;
    expect(changed.emailLookup).toBe(lookupHash(keys.lookups, 'email', 'ada.lovelace@example.org'));
  });

  it('rewrites references to the user id: an email subject, its reference and Message-ID, the envelope ids', () => {
    const copy = copiedMessage(
      {
        subject: `old.cra.events.email.verify-${oldId}-${nonce}`,
        headers: { 'Nats-Msg-Id': `sent-verify-${oldId}-${nonce}` },
        events: [oldEvent('EmailSent')],
        meta,
      },
      context,
    );
    expect(copy.subject).toBe(`old.cra.events.email.verify-${newId}-${nonce}`);
    expect(copy.headers['Nats-Msg-Id']).toBe(`sent-verify-${newId}-${nonce}`);
    const { events, meta: after } = decoded(copy);
    expect(events[0]!.data).toMatchObject({
      reference: `verify-${newId}-${nonce}`,
      messageId: `<verify.${newId}.${nonce}@cra.test>`,
    });
    expect(after).toEqual({ ...meta, correlationId: `reset-${newId}-n` });
  });

  it("makes the web's DeleteAlert command id again for the new id, and keeps the other headers", () => {
    const del = (id: string) => `del${createHash('sha256').update(`delete-alert|${id}|a1`).digest('hex').slice(0, 32)}`;
    const copy = copyOf([oldEvent('AlertDeleted')], {
      'Nats-Msg-Id': del(oldId),
      'Nats-Expected-Last-Subject-Sequence': '12',
    });
    expect(copy.headers['Nats-Msg-Id']).toBe(del(newId));
    expect(copy.headers['Nats-Expected-Last-Subject-Sequence']).toBe('12');
    expect(copy.headers['Cra-Event-Type']).toBe('AlertDeleted');
  });

  it('names the erased person key of the new bucket, or none when they have none there', () => {
    const erased = { type: 'AccountErased', data: { userId: oldId, by: 'operator', keyRevision: 3 } } as DomainEvent;
    expect(decoded(copyOf([erased])).events[0]!.data).toEqual({ userId: newId, by: 'operator', keyRevision: 7 });
    const keyless = decoded(copyOf([erased], {}, { ...context, targetKeys: new Map() })).events[0]!.data;
    expect(keyless).toEqual({ userId: newId, by: 'operator' });
  });

  it('moves fields sealed in the old bucket to the new key; a field whose old key is gone stays as it was', () => {
    const nina = userIdFor('nina', keys.userIds);
    const oldKey = { key: randomBytes(32), revision: 4 };
    const ninaKey = { key: randomBytes(32), revision: 9 };
    const registered = {
      type: 'UserRegistered',
      data: {
        userId: nina,
        username: seal(oldKey.key, 4, nina, 'username', 'nina'),
        email: seal(oldKey.key, 4, nina, 'email', 'nina@example.com'),
      },
    } as DomainEvent;
    const ctx = { ...context, targetKeys: new Map([[nina, ninaKey]]), sourceKeys: new Map([[nina, oldKey]]) };
    expect(keysNeeded([registered], ctx.ids)).toEqual({ seal: [nina], erase: [], open: [nina] });
    const data = decoded(copyOf([registered], {}, ctx)).events[0]!.data as Record<string, string>;
    expect(data.userId).toBe(nina);
    expect(unseal(ninaKey.key, nina, 'username', data.username!)).toBe('nina');
    expect(unseal(ninaKey.key, nina, 'email', data.email!)).toBe('nina@example.com');

    const gone = copyOf([registered], {}, { ...ctx, sourceKeys: new Map() });
    expect(gone.kept).toBe(2);
    expect(decoded(gone).events[0]!.data).toEqual(registered.data);
  });

  it('copies a message with several events, each in its current version', () => {
    const copy = copyOf([oldEvent('AlertTriggered'), oldEvent('EmailClaimed')]);
    expect(copy.headers['Cra-Event-Type']).toBe('AlertTriggered,EmailClaimed');
    expect(copy.headers['Cra-Schema-Version']).toBe('2,1');
    expect(decoded(copy).events.map((e) => (e.data as { userId: string }).userId)).toEqual([newId, newId]);
  });

  it('replaces only the user ids it knows', () => {
    const other = `u${'f'.repeat(32)}`;
    expect(withNewIds(`digest.12.${oldId} ${other}`, context.ids)).toBe(`digest.12.${newId} ${other}`);
  });

  it('finds the namespace of the stream --from names, and none for another name', () => {
    expect(namespaceOfStream('CRA_EVENTS')).toEqual(namespaceFor(undefined));
    expect(namespaceOfStream('OLD1_CRA_EVENTS')).toEqual(namespaceFor('old1'));
    expect(namespaceOfStream('cra_events')).toBeUndefined();
    expect(namespaceOfStream('KV_CRA_EVENTS_PERSON_KEYS')).toBeUndefined();
  });
});
