import type { UserPagesVersion } from '../../shared/openSessions.ts';

type Entry<T> = { version: UserPagesVersion; value: T };

/**
 * Markup rendered for one user, kept while it is current: an entry serves only a request that read the very version
 * it was rendered at (the user's latest event and the latest run, see openSessionVersions), so any change, by this
 * instance or another, shows at once. Bounded by the bytes held; the least recently used entries go first.
 */
export class RenderedPages<T extends { readonly length: number }> {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, Entry<T>>();
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  /** The markup kept under `key` if it was rendered at exactly `version`. */
  get(key: string, version: UserPagesVersion): T | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.version.userSeq !== version.userSeq || entry.version.runSeq !== version.runSeq)
      return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keep `value`, rendered from the read models as of `version` or later, in place of what `key` held. */
  set(key: string, version: UserPagesVersion, value: T): void {
    this.delete(key);
    if (value.length > this.maxBytes) return;
    this.entries.set(key, { version, value });
    this.held += value.length;
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.held -= entry.value.length;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.held -= entry.value.length;
  }

  /** Bytes held (at most the bound). */
  get size(): number {
    return this.held;
  }
}
