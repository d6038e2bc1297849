import { createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { personalFields, type DomainEvent, type Namespace, type PersonalKind } from '../../events/index.ts';
import { deriveKeys, type DerivedKeys } from './masterKey.ts';
import { PersonKeys } from './personKeys.ts';
import { isSealed, seal, sealedRevision, unseal } from './sealed.ts';

export { parseMasterKey, deriveKeys, type DerivedKeys } from './masterKey.ts';
export { isSealed } from './sealed.ts';
export { PersonKeys, personKeysBucket } from './personKeys.ts';

/** What a personal field reads as once its person's key is destroyed (docs/design.md §9). */
export const ERASED = '(erased)';

/** What a personal field holds (events/catalog.ts personalFields): a sealed value opens only as the kind it was sealed as. */
export type PersonalField = PersonalKind;

/**
 * Personal data in the log and the read models (docs/design.md §9): each personal field is sealed with its person's
 * key before it is written, and revealed with it when read; once the key is destroyed it reads as ERASED, everywhere,
 * for good. Values written before this existed are plain text and read as they are (`cra copy-log` seals them into a new stream).
 */
export class PersonalData {
  constructor(
    readonly keys: PersonKeys,
    private readonly derived: DerivedKeys,
  ) {}

  static async open(
    nc: NatsConnection,
    ns: Namespace,
    masterKey: Buffer,
    options: { replicas?: number } = {},
  ): Promise<PersonalData> {
    const derived = deriveKeys(masterKey);
    return new PersonalData(await PersonKeys.open(nc, ns, derived.wrap, options), derived);
  }

  /** The field sealed under the person's current key (made now if they have none). */
  async seal(owner: string, field: PersonalField, plaintext: string): Promise<string> {
    const { key, revision } = await this.keys.keyFor(owner);
    return seal(key, revision, owner, field, plaintext);
  }

  /** The field's plain text; ERASED when its key is gone (or is not the one it was sealed with). */
  async reveal(owner: string, field: PersonalField, value: string): Promise<string> {
    if (!isSealed(value)) return value;
    const current = await this.keys.current(owner);
    if (!current || current.revision !== sealedRevision(value)) return ERASED;
    return unseal(current.key, owner, field, value) ?? ERASED;
  }

  /** A keyed hash to look a person up by (their email address) without storing it: the same for the same address. */
  lookup(kind: 'email', value: string): string {
    return lookupHash(this.derived.lookups, kind, value);
  }

  /** The key user ids are derived with (events/subjects.ts userIdFor). */
  get userIdKey(): Buffer {
    return this.derived.userIds;
  }

  /** Destroy the person's key (only revision `revision`, when given): every field sealed with it is erased. */
  forget(owner: string, revision?: number): Promise<void> {
    return this.keys.destroy(owner, revision);
  }

  close(): void {
    this.keys.close();
  }
}

/** The lookup hash of a value under the derived lookups key (PersonalData.lookup; `cra copy-log` computes it too). */
export function lookupHash(lookupsKey: Buffer, kind: 'email', value: string): string {
  return createHmac('sha256', lookupsKey).update(`${kind}:${value.trim().toLowerCase()}`).digest('base64url');
}

/**
 * The event's data with each personal field (events/catalog.ts personalFields) in plain text, or ERASED: for what a
 * person or an operator reads (`cra events`, the data export), never for writing back to the log.
 */
export async function revealedData(personal: PersonalData, event: DomainEvent): Promise<Record<string, unknown>> {
  const data = { ...(event.data as Record<string, unknown>) };
  const owner = typeof data.userId === 'string' ? data.userId : undefined;
  const fields: Record<string, PersonalKind | undefined> = personalFields[event.type] ?? {};
  for (const [field, kind] of Object.entries(fields)) {
    const value = data[field];
    if (owner && kind && typeof value === 'string') data[field] = await personal.reveal(owner, kind, value);
  }
  return data;
}
