import { describe, expect, it } from 'vitest';
import { encodeEvents, event } from '../../../events/index.ts';
import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { packBatch, prepareBatch, preparePacked, unpackBatch } from './preparedBatch.ts';
import { readStoredMessage } from '../storedMessage.ts';

const meta = { occurredAt: '2026-11-02T10:00:00.000Z', correlationId: 'c', causationId: 'c' };
const userId = 'u0123456789abcdef0123456789abcdef';
const headerBlock = (headers: Record<string, string>) =>
  new TextEncoder().encode(
    `NATS/1.0\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`,
  );

/** Messages as the event store gives them (with the header block as received) and as tests write them (a record only). */
function messages(count: number): RawMessage[] {
  return Array.from({ length: count }, (_, i) => {
    const alertId = `a${i}`;
    const { headers, body } = encodeEvents(
      [event('AlertSet', { alertId, userId, base: 'EUR', quote: 'USD', threshold: `1.${i + 1}` })],
      meta,
    );
    const raw: RawMessage = {
      seq: i + 1,
      subject: `cra.events.alert.${alertId}.ü`,
      headers,
      body,
      pending: count - i - 1,
    };
    return i % 3 === 0 ? raw : { ...raw, headerBlock: headerBlock(headers) };
  });
}

describe('a packed batch', () => {
  it('gives back every message: sequence, subject, headers and body, whichever form its headers came in', () => {
    const raws = [
      ...messages(40),
      { seq: 41, subject: 's.41', headers: {}, body: new Uint8Array([0xff, 0x00]), pending: 0 },
    ];
    const back = unpackBatch(packBatch(raws));
    expect(back.map((r) => ({ seq: r.seq, subject: r.subject, headers: r.headers, body: [...r.body] }))).toEqual(
      raws.map((r) => ({ seq: r.seq, subject: r.subject, headers: r.headers, body: [...r.body] })),
    );
  });

  it('grows past its first buffer without losing a byte', () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const raws = [
      ...messages(3),
      { seq: 4, subject: 's.4', headers: { a: 'b' }, body: big, pending: 0 },
      ...messages(2).map((r, i) => ({ ...r, seq: 5 + i })),
    ];
    const back = unpackBatch(packBatch(raws));
    expect(back).toHaveLength(raws.length);
    expect(Buffer.from(back[3]!.body).equals(Buffer.from(big))).toBe(true);
    expect(back.at(-1)!.headers).toEqual(raws.at(-1)!.headers);
  });

  it('prepares to exactly what the unpacked messages prepare to, parking what cannot be read', () => {
    const raws = [
      ...messages(20),
      { seq: 21, subject: 's.21', headers: { 'Cra-Event-Type': 'AlertSet' }, body: new Uint8Array([1]), pending: 0 },
    ];
    const prepared = preparePacked(packBatch(raws), 'read_models');
    expect(prepared).toEqual(prepareBatch(raws.map(readStoredMessage), 'read_models'));
    expect(prepared.unreadable).toEqual([
      { seq: 21, subject: 's.21', reason: expect.stringContaining('Cra-Schema-Version') },
    ]);
    expect(prepared.statements[0]!.text).toContain('"read_models"."alerts"');
  });
});
