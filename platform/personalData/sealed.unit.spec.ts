import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKeys, parseMasterKey } from './masterKey.ts';
import { isSealed, seal, sealedRevision, unseal } from './sealed.ts';

const key = randomBytes(32);

describe('a sealed personal field', () => {
  it('opens with its key, for its person and field only, and names the key revision', () => {
    const sealed = seal(key, 7, 'u1', 'email', 'ann@example.com');
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain('ann');
    expect(sealedRevision(sealed)).toBe(7);
    expect(unseal(key, 'u1', 'email', sealed)).toBe('ann@example.com');
    expect(unseal(key, 'u2', 'email', sealed)).toBeUndefined();
    expect(unseal(key, 'u1', 'username', sealed)).toBeUndefined();
    expect(unseal(randomBytes(32), 'u1', 'email', sealed)).toBeUndefined();
  });

  it('differs each time it is sealed, and a changed byte does not open', () => {
    const a = seal(key, 1, 'u1', 'username', 'ann');
    expect(seal(key, 1, 'u1', 'username', 'ann')).not.toBe(a);
    const tampered = a.slice(0, -2) + (a.at(-2) === 'A' ? 'B' : 'A') + a.at(-1);
    expect(unseal(key, 'u1', 'username', tampered)).toBeUndefined();
    expect(unseal(key, 'u1', 'username', 'ann')).toBeUndefined();
    expect(sealedRevision('ann')).toBeUndefined();
  });
});

describe('CRA_MASTER_KEY', () => {
  it('takes 32 bytes as hex or base64 and refuses anything else with the reason', () => {
    const bytes = randomBytes(32);
    expect(parseMasterKey(bytes.toString('hex'))).toEqual(bytes);
    expect(parseMasterKey(bytes.toString('base64'))).toEqual(bytes);
    expect(parseMasterKey(bytes.toString('base64url'))).toEqual(bytes);
    expect(parseMasterKey('too short')).toMatch(/32 bytes/);
    expect(parseMasterKey('0'.repeat(64))).toMatch(/random/);
  });

  it('derives a different key for each use, the same each time', () => {
    const master = randomBytes(32);
    const a = deriveKeys(master);
    expect(deriveKeys(master)).toEqual(a);
    expect(new Set([a.wrap, a.userIds, a.lookups, master].map((k) => k.toString('hex'))).size).toBe(4);
  });
});
