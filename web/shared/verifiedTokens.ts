/**
 * Session cookies whose signature was already checked, with their claims, so a browser's every request does not
 * check the same signature again. Only a token that verified is ever kept (a forged one is checked every time),
 * each until it expires; bounded, the oldest going first.
 */
export class VerifiedTokens<Claims extends { exp?: number }> {
  // A Map iterates in insertion order: the first key is the one kept longest.
  private readonly tokens = new Map<string, Claims>();

  constructor(private readonly max: number) {}

  /** The claims of `token` if it verified before and has not expired at `nowMs`. */
  get(token: string, nowMs: number): Claims | undefined {
    const claims = this.tokens.get(token);
    if (claims === undefined) return undefined;
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) {
      this.tokens.delete(token);
      return undefined;
    }
    return claims;
  }

  /** Keep `token`, just verified; one without an expiry is not kept (it would never be checked again). */
  set(token: string, claims: Claims): void {
    if (typeof claims.exp !== 'number') return;
    this.tokens.delete(token);
    this.tokens.set(token, claims);
    if (this.tokens.size > this.max) this.tokens.delete(this.tokens.keys().next().value!);
  }

  get size(): number {
    return this.tokens.size;
  }
}
