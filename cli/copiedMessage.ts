import { createHash } from 'node:crypto';
import {
  encodeEvents,
  Header,
  personalFields,
  type DomainEvent,
  type EncodedMessage,
  type EnvelopeMeta,
  type EventData,
  type EventType,
  type PersonalKind,
} from '../events/index.ts';
import { lookupHash } from '../platform/personalData/index.ts';
import type { PersonKey } from '../platform/personalData/personKeys.ts';
import { isSealed, seal, sealedRevision, unseal } from '../platform/personalData/sealed.ts';
import { linkToken, tokenHash, type LinkPurpose } from '../platform/tokens.ts';

// `cra copy-log`, the pure part: one message of a log written before personal data was sealed (or partly after), as the
// new stream holds it (README "Personal data", docs/design.md §9). The I/O around it is in copyLog.ts.

/** The user id a username had before sealing: a plain SHA-256 that anyone who guesses the username recomputes. */
export function plainUserIdFor(username: string): string {
  return `u${createHash('sha256').update(username.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
}

/** Each plain username a message's events hold, with the user id they name (what the old → new id map is made of). */
export function plainUsernames(events: readonly DomainEvent[]): { userId: string; username: string }[] {
  const found: { userId: string; username: string }[] = [];
  for (const e of events) {
    const data = e.data as Record<string, unknown>;
    const username = data.username;
    if ((personalFields[e.type] as Record<string, PersonalKind> | undefined)?.username !== 'username') continue;
    if (typeof username === 'string' && typeof data.userId === 'string' && !isSealed(username))
      found.push({ userId: data.userId, username });
  }
  return found;
}

/** Every user id in a text (a subject, a reference, a message id) replaced by its new id; others left as they are. */
export function withNewIds(text: string, ids: ReadonlyMap<string, string>): string {
  return text.replace(/u[0-9a-f]{32}/g, (id) => ids.get(id) ?? id);
}

export type CopyContext = {
  /** Old plain-hash user id → the id the current code derives (userIdFor); an id not in it is kept. */
  ids: ReadonlyMap<string, string>;
  /** Each person's key in the new namespace's bucket, by new user id (made before the message is copied). */
  targetKeys: ReadonlyMap<string, PersonKey>;
  /** Each person's key in the old namespace's bucket, by old user id: opens what was sealed there. */
  sourceKeys: ReadonlyMap<string, PersonKey>;
  /** The keyed hash of an address the read models look it up by (PersonalData.lookup). */
  lookupsKey: Buffer;
  /** The link tokens' secret (JWT_SECRET): a token hash names the user id, so it is made again with the new one. */
  linkSecret: Buffer;
};

/** A message of the old log: its subject, its headers as stored, and its events decoded (upcast to their current version). */
export type SourceMessage = {
  subject: string;
  headers: Record<string, string>;
  events: DomainEvent[];
  meta: EnvelopeMeta;
};

/** What the new stream stores at the same sequence; `kept`: sealed fields that did not open (their key is gone), kept as they were. */
export type CopiedMessage = EncodedMessage & { subject: string; kept: number };

/** The owner of an event (the person its personal fields are sealed for), when it has one. */
const ownerOf = (e: DomainEvent): string | undefined =>
  'userId' in e.data && typeof e.data.userId === 'string' ? e.data.userId : undefined;

/**
 * The keys a message needs, by person: `seal`, new ids whose personal fields it seals (their key is made if they have
 * none); `erase`, new ids it erases (their current key, if any); `open`, old ids whose fields were sealed in the old bucket.
 */
export function keysNeeded(events: readonly DomainEvent[], ids: ReadonlyMap<string, string>) {
  const needed = { seal: new Set<string>(), erase: new Set<string>(), open: new Set<string>() };
  for (const e of events) {
    const owner = ownerOf(e);
    if (!owner) continue;
    if (e.type === 'AccountErased') needed.erase.add(ids.get(owner) ?? owner);
    const fields = Object.keys(personalFields[e.type] ?? {});
    if (fields.length === 0) continue;
    needed.seal.add(ids.get(owner) ?? owner);
    const data = e.data as Record<string, unknown>;
    if (fields.some((f) => typeof data[f] === 'string' && isSealed(data[f]))) needed.open.add(owner);
  }
  return { seal: [...needed.seal], erase: [...needed.erase], open: [...needed.open] };
}

/** One event's data with its ids, personal fields, lookups and token hashes as the current code would have written them. */
type Copy<T extends EventType> = (data: EventData<T>, c: EventCopy) => EventData<T>;

/** What every event's copy uses: the old and new owner, the context, and the count of sealed values kept as they were. */
type EventCopy = CopyContext & {
  from: string;
  to: string;
  /** The personal field sealed under the owner's new key (its plain text: undefined when it did not open). */
  personal: (kind: PersonalKind, value: string) => { value: string; plain?: string };
  /** The token hash made again for the new id, when it was made for the old one with this secret. */
  token: (purpose: LinkPurpose, nonce: string, hash: string) => string;
};

const newId = (id: string, c: EventCopy) => c.ids.get(id) ?? id;
const lookupOf = (c: EventCopy, plain: string | undefined, kept: string | undefined) =>
  plain === undefined ? kept : lookupHash(c.lookupsKey, 'email', plain);

/** Every event type, so a new one does not compile until its copy is written (README "Adding an event type"). */
const copies: { [T in EventType]: Copy<T> } = {
  RegistrationRequested: (d, c) => {
    const email = c.personal('email', d.email);
    const emailLookup = lookupOf(c, email.plain, d.emailLookup);
    return {
      ...d,
      userId: c.to,
      username: c.personal('username', d.username).value,
      email: email.value,
      ...(emailLookup === undefined ? {} : { emailLookup }),
      tokenHash: c.token('verify', d.tokenNonce, d.tokenHash),
    };
  },
  VerificationReissued: (d, c) => ({ ...d, userId: c.to, tokenHash: c.token('verify', d.tokenNonce, d.tokenHash) }),
  UserRegistered: (d, c) => ({
    ...d,
    userId: c.to,
    username: c.personal('username', d.username).value,
    email: c.personal('email', d.email).value,
  }),
  RegistrationExpired: (d, c) => ({ ...d, userId: c.to, username: c.personal('username', d.username).value }),
  UserLoggedIn: (d, c) => ({ ...d, userId: c.to }),
  UserLoggedOut: (d, c) => ({ ...d, userId: c.to }),
  PasswordResetRequested: (d, c) => ({ ...d, userId: c.to, tokenHash: c.token('reset', d.tokenNonce, d.tokenHash) }),
  PasswordChanged: (d, c) => ({ ...d, userId: c.to }),
  SessionsEnded: (d, c) => ({ ...d, userId: c.to }),
  EmailChangeRequested: (d, c) => {
    const email = c.personal('email', d.email);
    return {
      ...d,
      userId: c.to,
      email: email.value,
      emailLookup: lookupOf(c, email.plain, d.emailLookup)!,
      tokenHash: c.token('email-change', d.tokenNonce, d.tokenHash),
    };
  },
  EmailChanged: (d, c) => {
    const email = c.personal('email', d.email);
    return {
      ...d,
      userId: c.to,
      email: email.value,
      emailLookup: lookupOf(c, email.plain, d.emailLookup)!,
      previousEmail: c.personal('email', d.previousEmail).value,
    };
  },
  AlertEmailsPaused: (d, c) => ({ ...d, userId: c.to }),
  AlertEmailsResumed: (d, c) => ({ ...d, userId: c.to }),
  // The key to destroy is the person's key in the new bucket: the old revision names a key of the old bucket.
  AccountErased: ({ keyRevision: _old, ...d }, c) => {
    const keyRevision = c.targetKeys.get(c.to)?.revision;
    return { ...d, userId: c.to, ...(keyRevision === undefined ? {} : { keyRevision }) };
  },
  AlertSet: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  AlertDeleted: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  AlertEdited: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  AlertPaused: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  AlertResumed: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  AlertRearmed: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  ChannelAdded: (d, c) => ({
    ...d,
    userId: c.to,
    url: c.personal('webhook-url', d.url).value,
    secret: c.personal('webhook-secret', d.secret).value,
  }),
  ChannelTestRequested: (d, c) => ({ ...d, userId: c.to }),
  ChannelPaused: (d, c) => ({ ...d, userId: c.to }),
  ChannelResumed: (d, c) => ({ ...d, userId: c.to }),
  ChannelDeleted: (d, c) => ({ ...d, userId: c.to }),
  // A delivery's reference (a run's sequence, or a test's id) and its webhook id name no person.
  WebhookClaimed: (d, c) => ({ ...d, userId: c.to }),
  WebhookAttempted: (d, c) => ({ ...d, userId: c.to }),
  RatesFetched: (d) => d,
  AlertTriggered: (d, c) => ({ ...d, userId: newId(d.userId, c) }),
  EmailClaimed: (d, c) => ({ ...d, userId: newId(d.userId, c), reference: withNewIds(d.reference, c.ids) }),
  EmailDeferred: (d, c) => ({ ...d, userId: newId(d.userId, c), reference: withNewIds(d.reference, c.ids) }),
  EmailUndeliverable: (d, c) => ({
    ...d,
    userId: newId(d.userId, c),
    reference: withNewIds(d.reference, c.ids),
    email: c.personal('email', d.email).value,
  }),
  EmailSent: (d, c) => ({
    ...d,
    userId: newId(d.userId, c),
    reference: withNewIds(d.reference, c.ids),
    messageId: withNewIds(d.messageId, c.ids),
  }),
};

/** The web's DeleteAlert command id (web/alerts/routes.ts): a hash of the user id, so made again with the new one. */
const deleteAlertId = (userId: string, alertId: string) =>
  `del${createHash('sha256').update(`delete-alert|${userId}|${alertId}`).digest('hex').slice(0, 32)}`;

/** The message id (Nats-Msg-Id) the current write path would have given the message. */
function newMessageId(msgId: string, events: readonly DomainEvent[], ids: ReadonlyMap<string, string>): string {
  for (const e of events) {
    if (e.type !== 'AlertDeleted' || !ids.has(e.data.userId)) continue;
    if (msgId === deleteAlertId(e.data.userId, e.data.alertId))
      return deleteAlertId(ids.get(e.data.userId)!, e.data.alertId);
  }
  return withNewIds(msgId, ids);
}

/**
 * The message as the new stream stores it at the same sequence: each user id re-derived (payloads, subject, references,
 * message id, correlation and causation ids), each personal field sealed under its person's key in the new bucket (plain
 * text, or opened with the old bucket's key; a value whose key is gone stays as it was and reads as erased), lookups and
 * token hashes made for the new id, and the events encoded in their current version. Pure but for the seals' nonces.
 */
export function copiedMessage(message: SourceMessage, context: CopyContext): CopiedMessage {
  let kept = 0;
  const events = message.events.map((e): DomainEvent => {
    const from = ownerOf(e) ?? '';
    const to = context.ids.get(from) ?? from;
    const c: EventCopy = {
      ...context,
      from,
      to,
      personal: (kind, value) => {
        const key = context.targetKeys.get(to);
        if (!key) throw new Error(`no key of ${to} in the new bucket for a ${e.type}`);
        const plain = isSealed(value) ? opened(context.sourceKeys.get(from), from, kind, value) : value;
        if (plain === undefined) {
          kept++;
          return { value };
        }
        return { value: seal(key.key, key.revision, to, kind, plain), plain };
      },
      token: (purpose, nonce, hash) =>
        from !== to && hash === tokenHash(linkToken(context.linkSecret, purpose, from, nonce))
          ? tokenHash(linkToken(context.linkSecret, purpose, to, nonce))
          : hash,
    };
    return { type: e.type, data: (copies[e.type] as Copy<typeof e.type>)(e.data as never, c) } as DomainEvent;
  });
  const meta = {
    occurredAt: message.meta.occurredAt,
    correlationId: withNewIds(message.meta.correlationId, context.ids),
    causationId: withNewIds(message.meta.causationId, context.ids),
  };
  const encoded = encodeEvents(events, meta);
  const headers: Record<string, string> = {};
  const envelope = new Set<string>(Object.values(Header));
  for (const [name, value] of Object.entries(message.headers)) {
    if (envelope.has(name)) continue;
    headers[name] =
      name === 'Nats-Msg-Id' ? newMessageId(value, message.events, context.ids) : withNewIds(value, context.ids);
  }
  return {
    subject: withNewIds(message.subject, context.ids),
    headers: { ...headers, ...encoded.headers },
    body: encoded.body,
    kept,
  };
}

/** A sealed value's plain text with the old bucket's key, or undefined when that key is gone (the person was erased). */
function opened(key: PersonKey | undefined, owner: string, kind: PersonalKind, value: string): string | undefined {
  if (!key || key.revision !== sealedRevision(value)) return undefined;
  return unseal(key.key, owner, kind, value);
}
