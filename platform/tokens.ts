import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Emailed links carry `<userId>.<mac>`: an HMAC of a random nonce that is in the log. The command side
 * stores only sha256(token); the notifier recomputes the token from the nonce to put it in the email.
 * So the log never holds a usable token, and no token crosses NATS in plain text.
 */
export type LinkPurpose = 'verify' | 'reset' | 'email-change';

export function linkSecret(rootSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', rootSecret, 'cra-link-tokens', 'v1', 32));
}

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function linkToken(secret: Buffer, purpose: LinkPurpose, userId: string, nonce: string): string {
  const mac = createHmac('sha256', secret).update(`${purpose}|${userId}|${nonce}`).digest('base64url');
  return `${userId}.${mac}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The user id a token claims to be for, or undefined when it is not shaped like one of ours. */
export function tokenUserId(token: string): string | undefined {
  const match = /^(u[0-9a-f]{32})\.[A-Za-z0-9_-]{43}$/.exec(token);
  return match?.[1];
}

/** The token of a user's unsubscribe link: an HMAC of the user id, so the link needs no state and cannot be forged. */
export function unsubscribeToken(secret: Buffer, userId: string): string {
  return `${userId}.${createHmac('sha256', secret).update(`unsubscribe|${userId}`).digest('base64url')}`;
}

/** The user id an unsubscribe token is valid for, or undefined when forged or malformed. */
export function unsubscribeUserId(secret: Buffer, token: string): string | undefined {
  const userId = tokenUserId(token);
  if (!userId) return undefined;
  const expected = Buffer.from(unsubscribeToken(secret, userId));
  const given = Buffer.from(token);
  return expected.length === given.length && timingSafeEqual(expected, given) ? userId : undefined;
}
