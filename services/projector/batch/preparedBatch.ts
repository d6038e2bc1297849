import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { parseHeaderBlock } from '../../../platform/eventStore/messageHeaders.ts';
import { tablesIn } from '../../../platform/postgres.ts';
import type { Statement } from '../reference/eventStatements.ts';
import { setStatements } from './setStatements.ts';
import { readStoredMessage, type StoredMessage } from '../storedMessage.ts';
import { tableChanges } from './tableChanges.ts';

/** A message the projector cannot read, as the batch parks it. */
export type Unreadable = { seq: number; subject: string; reason: string };

/** What a batch does to the read models in `schema`: its set-based statements, and the messages it parks. */
export type PreparedBatch = { statements: Statement[]; unreadable: Unreadable[] };

/** Pure: decode a batch and fold it into its statements (the work a rebuild spends its CPU on). */
export function prepareBatch(messages: readonly StoredMessage[], schema: string): PreparedBatch {
  const unreadable: Unreadable[] = [];
  for (const m of messages)
    if (m.unreadable !== undefined) unreadable.push({ seq: m.raw.seq, subject: m.raw.subject, reason: m.unreadable });
  return { statements: setStatements(tableChanges(messages), tablesIn(schema)), unreadable };
}

/**
 * A batch of raw messages in a few flat buffers: each message's subject, its headers (the block as received, or
 * its record as JSON when there is none) and its body, one after another. The projector packs each message as it
 * arrives and lets it go, so a batch waiting to be applied is a handful of objects for the garbage collector rather
 * than thousands (it spent a quarter of the reading thread copying them); and a packed batch crosses to another
 * thread as a few buffers.
 */
export type PackedBatch = {
  seqs: Float64Array<ArrayBuffer>;
  /** The sequence the reader had delivered before this batch: its first message follows it, deleted ones between. */
  after: number;
  /** Per message: 1 when its header part is a JSON record rather than a NATS header block. */
  jsonHeaders: Uint8Array<ArrayBuffer>;
  /** Per message: where its subject, its header part and its body start, and where its body ends. */
  bounds: Uint32Array<ArrayBuffer>;
  bytes: Uint8Array<ArrayBuffer>;
};

const encoder = new TextEncoder();

export class BatchPacker {
  private bytes = new Uint8Array(64 * 1024);
  private size = 0;
  private readonly seqs: number[] = [];
  private readonly jsonHeaders: number[] = [];
  private readonly bounds: number[] = [];

  /** `after`: the sequence the reader delivered last (a log's gaps are sequences never delivered); else the first's. */
  constructor(private readonly after?: number) {}

  get length(): number {
    return this.seqs.length;
  }

  add(raw: RawMessage): void {
    const block = raw.headerBlock;
    this.seqs.push(raw.seq);
    this.jsonHeaders.push(block ? 0 : 1);
    this.bounds.push(this.size);
    this.writeText(raw.subject);
    this.bounds.push(this.size);
    this.write(block ?? encoder.encode(JSON.stringify(raw.headers)));
    this.bounds.push(this.size);
    this.write(raw.body);
    this.bounds.push(this.size);
  }

  finish(): PackedBatch {
    return {
      seqs: Float64Array.from(this.seqs),
      after: this.after ?? (this.seqs[0] ?? 1) - 1,
      jsonHeaders: Uint8Array.from(this.jsonHeaders),
      bounds: Uint32Array.from(this.bounds),
      bytes: this.bytes.slice(0, this.size),
    };
  }

  private write(part: Uint8Array): void {
    this.room(part.byteLength);
    this.bytes.set(part, this.size);
    this.size += part.byteLength;
  }

  /** Text straight into the buffer, without an encoded copy per message. */
  private writeText(text: string): void {
    this.room(text.length * 3); // the most UTF-8 bytes a UTF-16 string can need
    this.size += encoder.encodeInto(text, this.bytes.subarray(this.size)).written;
  }

  private room(bytes: number): void {
    if (this.size + bytes <= this.bytes.byteLength) return;
    const grown = new Uint8Array(Math.max(this.bytes.byteLength * 2, this.size + bytes));
    grown.set(this.bytes.subarray(0, this.size));
    this.bytes = grown;
  }
}

export function packBatch(raws: readonly RawMessage[]): PackedBatch {
  const packer = new BatchPacker();
  for (const raw of raws) packer.add(raw);
  return packer.finish();
}

const utf8 = new TextDecoder();

/** The messages of a packed batch (`pending` is not kept: 0). */
export function unpackBatch(packed: PackedBatch): RawMessage[] {
  const { seqs, jsonHeaders, bounds, bytes } = packed;
  return Array.from(seqs, (seq, i): RawMessage => {
    const [subjectAt, headAt, bodyAt, end] = [
      bounds[4 * i]!,
      bounds[4 * i + 1]!,
      bounds[4 * i + 2]!,
      bounds[4 * i + 3]!,
    ];
    const head = bytes.subarray(headAt, bodyAt);
    const headers = jsonHeaders[i] ? (JSON.parse(utf8.decode(head)) as Record<string, string>) : parseHeaderBlock(head);
    return {
      seq,
      subject: utf8.decode(bytes.subarray(subjectAt, headAt)),
      headers,
      body: bytes.subarray(bodyAt, end),
      pending: 0,
    };
  });
}

/** What the preparing thread does with a packed batch. */
export function preparePacked(packed: PackedBatch, schema: string): PreparedBatch {
  return prepareBatch(unpackBatch(packed).map(readStoredMessage), schema);
}
