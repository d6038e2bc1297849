import { randomBytes } from 'node:crypto';
import type { Html } from '../../../platform/html.ts';

// Unguessable per process and plain letters and digits, so escaping leaves it whole and no user data can forge it.
const MARK = `slot${randomBytes(12).toString('hex')}`;
const SLOT = new RegExp(`${MARK}_(\\d+)_`);
// Characters that mean the same in HTML text, attributes and JSON strings: a value of these needs no escaping anywhere.
const TOKEN = /^[A-Za-z0-9._~-]*$/;

/**
 * Markup rendered once with placeholders for the values that differ on every request (the CSRF token, a form's
 * idempotency key), kept encoded, then filled per request by copying bytes: the expensive rendering and encoding
 * are kept, the per-request values never are.
 */
export class MarkupTemplate<Slot extends string> {
  /** Bytes held, for a cache's memory bound. */
  readonly length: number;

  private constructor(
    private readonly names: readonly Slot[],
    /** Encoded markup between the slots: one more than `slots`. */
    private readonly parts: readonly Buffer[],
    /** Which name goes after each part but the last. */
    private readonly slots: readonly number[],
  ) {
    this.length = parts.reduce((n, part) => n + part.length, 0);
  }

  /** Render once, `build` placing `slots[name]` wherever the value goes (text, attribute or a JSON string in one). */
  static render<Slot extends string>(
    names: readonly Slot[],
    build: (slots: Record<Slot, string>) => Html,
  ): MarkupTemplate<Slot> {
    const placeholders = Object.fromEntries(names.map((name, i) => [name, `${MARK}_${i}_`])) as Record<Slot, string>;
    // split() with a capturing group: markup at even indices, slot numbers at odd ones.
    const split = build(placeholders).value.split(SLOT);
    return new MarkupTemplate(
      names,
      split.filter((_, i) => i % 2 === 0).map((part) => Buffer.from(part)),
      split.filter((_, i) => i % 2 === 1).map(Number),
    );
  }

  /** The markup with every placeholder replaced by its value: a token (CSRF token, id, username), anything else is refused. */
  fill(values: Record<Slot, string>): Buffer {
    const encoded = this.names.map((name) => {
      const value = values[name];
      if (!TOKEN.test(value)) throw new Error(`${name} is not a token, so it cannot fill the template unescaped`);
      return Buffer.from(value);
    });
    let size = this.length;
    for (const slot of this.slots) size += encoded[slot]!.length;
    const out = Buffer.allocUnsafe(size);
    out.set(this.parts[0]!, 0);
    let at = this.parts[0]!.length;
    for (let i = 0; i < this.slots.length; i++) {
      const value = encoded[this.slots[i]!]!;
      out.set(value, at);
      at += value.length;
      const part = this.parts[i + 1]!;
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
