import type { JsMsg } from '@nats-io/jetstream';
import { headerBlock, messageHeaders } from './messageHeaders.ts';

/**
 * A raw stored message: consumers decode it themselves so that a bad one can be parked, not thrown. `headerBlock`,
 * when present, is the header block as received, for a reader that parses it elsewhere (another thread).
 */
export type RawMessage = {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  body: Uint8Array;
  pending: number;
  headerBlock?: Uint8Array;
};

/** A message as read from JetStream; its headers are parsed when first asked for. */
class ReceivedMessage implements RawMessage {
  readonly seq: number;
  readonly subject: string;
  readonly body: Uint8Array;
  readonly pending: number;
  private parsed: Record<string, string> | undefined;

  constructor(private readonly m: JsMsg) {
    this.seq = m.seq;
    this.subject = m.subject;
    this.body = m.data;
    this.pending = m.info.pending;
  }

  get headers(): Record<string, string> {
    return (this.parsed ??= messageHeaders(this.m));
  }

  get headerBlock(): Uint8Array | undefined {
    return headerBlock(this.m);
  }
}

export function toRaw(m: JsMsg): RawMessage {
  return new ReceivedMessage(m);
}
