import { decodeEvents, EventDecodeError, type DomainEvent } from '../../events/index.ts';
import type { RawMessage } from '../../platform/eventStore/index.ts';

/** One stored message as the projector takes it: its events, or why it cannot be read (then it is parked). */
export type StoredMessage =
  | { raw: RawMessage; events: DomainEvent[]; occurredAt: string; unreadable?: undefined }
  | { raw: RawMessage; unreadable: string };

export function readStoredMessage(raw: RawMessage): StoredMessage {
  try {
    const decoded = decodeEvents(raw.headers, raw.body);
    return { raw, events: decoded.events, occurredAt: decoded.meta.occurredAt };
  } catch (error) {
    if (!(error instanceof EventDecodeError)) throw error;
    return { raw, unreadable: error.message };
  }
}

/** A parked_events row: the message as stored, so it can be read again once the code understands it. */
export type ParkedRow = { seq: number; subject: string; reason: string; headers: string; body: string };

export function parkedRow(raw: RawMessage, reason: string): ParkedRow {
  // Postgres text holds no NUL character.
  const body = Buffer.from(raw.body.buffer, raw.body.byteOffset, raw.body.byteLength)
    .toString('utf8')
    .replaceAll('\u0000', '\uFFFD');
  return { seq: raw.seq, subject: raw.subject, reason, headers: JSON.stringify(raw.headers), body };
}
