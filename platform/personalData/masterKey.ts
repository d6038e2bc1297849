import { hkdfSync } from 'node:crypto';

/**
 * CRA_MASTER_KEY: 32 random bytes, as 64 hex digits or 43–44 characters of base64/base64url (`openssl rand -hex 32`).
 * It never encrypts anything itself: three keys are derived from it (HKDF-SHA256), one per use, so no key serves two.
 */
export type DerivedKeys = {
  /** Wraps each person's key where it is stored (personKeys.ts). */
  wrap: Buffer;
  /** Names a person's subject after their username without showing it (events/subjects.ts userIdFor). */
  userIds: Buffer;
  /** Keyed hashes the read models look a person up by (an email address), in place of the address. */
  lookups: Buffer;
};

/** The master key's bytes, or the reason the text is not one (the config error names the variable). */
export function parseMasterKey(text: string): Buffer | string {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}={0,1}$/.test(trimmed)
      ? Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
      : undefined;
  if (!bytes || bytes.length !== 32) return 'must be 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)';
  if (bytes.every((b) => b === bytes[0])) return 'must be random bytes, not one byte repeated';
  return bytes;
}

export function deriveKeys(master: Buffer): DerivedKeys {
  const derive = (use: string) => Buffer.from(hkdfSync('sha256', master, 'currency-ratio-alerter', use, 32));
  return { wrap: derive('person-key-wrap'), userIds: derive('user-ids'), lookups: derive('lookups') };
}
