import { describe, expect, it } from 'vitest';
import { VerifiedTokens } from './verifiedTokens.ts';

const at = (seconds: number) => seconds * 1000;
const claims = (sub: string, exp?: number) => ({ sub, ...(exp === undefined ? {} : { exp }) });

describe('VerifiedTokens', () => {
  it('knows only the exact tokens it was given', () => {
    const tokens = new VerifiedTokens<ReturnType<typeof claims>>(10);
    tokens.set('header.payload.signature', claims('u1', 100));
    expect(tokens.get('header.payload.signature', at(50))?.sub).toBe('u1');
    expect(tokens.get('header.payload.signaturf', at(50))).toBeUndefined();
    expect(tokens.get('header.payload.', at(50))).toBeUndefined();
  });

  it('forgets a token once it has expired', () => {
    const tokens = new VerifiedTokens<ReturnType<typeof claims>>(10);
    tokens.set('t', claims('u1', 100));
    expect(tokens.get('t', at(99.999))?.sub).toBe('u1');
    expect(tokens.get('t', at(100))).toBeUndefined();
    expect(tokens.size).toBe(0);
  });

  it('keeps no token without an expiry', () => {
    const tokens = new VerifiedTokens<ReturnType<typeof claims>>(10);
    tokens.set('t', claims('u1'));
    expect(tokens.get('t', at(1))).toBeUndefined();
  });

  it('holds at most its bound, dropping the oldest', () => {
    const tokens = new VerifiedTokens<ReturnType<typeof claims>>(2);
    tokens.set('a', claims('a', 100));
    tokens.set('b', claims('b', 100));
    tokens.set('c', claims('c', 100));
    expect(tokens.size).toBe(2);
    expect(tokens.get('a', at(1))).toBeUndefined();
    expect(tokens.get('b', at(1))?.sub).toBe('b');
    expect(tokens.get('c', at(1))?.sub).toBe('c');
  });
});
