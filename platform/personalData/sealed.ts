import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * One personal field sealed with its person's key: AES-256-GCM (authenticated), a fresh 12-byte nonce each time, and
 * as associated data the person and the field, so a sealed value moved to another person or field does not open.
 * Written as `sealed:v1:<key revision>:<base64url(nonce | tag | ciphertext)>`: the revision says which of the
 * person's keys sealed it, so a value sealed under a destroyed key is known to be erased without trying to open it.
 */
const PREFIX = 'sealed:v1:';
const NONCE = 12;
const TAG = 16;

export const isSealed = (value: string): boolean => value.startsWith(PREFIX);

const associated = (owner: string, field: string) => Buffer.from(`${owner}\u0000${field}`, 'utf8');

export function seal(key: Buffer, revision: number, owner: string, field: string, plaintext: string): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associated(owner, field));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${revision}:${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** The key revision a sealed value names, or undefined when it is not a sealed value. */
export function sealedRevision(value: string): number | undefined {
  if (!isSealed(value)) return undefined;
  const revision = Number(value.slice(PREFIX.length, value.indexOf(':', PREFIX.length)));
  return Number.isSafeInteger(revision) && revision > 0 ? revision : undefined;
}

/** The plaintext, or undefined when the value does not open with this key for this person and field. */
export function unseal(key: Buffer, owner: string, field: string, value: string): string | undefined {
  const revision = sealedRevision(value);
  if (revision === undefined) return undefined;
  const packed = Buffer.from(value.slice(PREFIX.length + String(revision).length + 1), 'base64url');
  if (packed.length < NONCE + TAG) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, NONCE));
    decipher.setAAD(associated(owner, field));
    decipher.setAuthTag(packed.subarray(NONCE, NONCE + TAG));
    return Buffer.concat([decipher.update(packed.subarray(NONCE + TAG)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
