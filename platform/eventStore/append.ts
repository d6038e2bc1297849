import { InvalidArgumentError, headers as natsHeaders } from '@nats-io/transport-node';
import { JetStreamApiCodes, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { z } from 'zod';
import {
  encodeEvents,
  EventSchemaError,
  type DomainEvent,
  type EnvelopeMeta,
  type Namespace,
} from '../../events/index.ts';
import type { Request } from '../replyInbox.ts';
import { NatsUnavailableError, OPERATION_TIMEOUT_MS, type ConnectionWatch } from './connectionWatch.ts';

/** Someone else appended to the aggregate first: reload and decide again. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly subject: string,
    readonly expectedSeq: number,
  ) {
    super(`${subject} moved past sequence ${expectedSeq}`);
  }
}

/**
 * A message that can never be stored as it is (bigger than the server takes, or refused by its schema): sending it
 * again cannot help, so its writer parks it (with this reason) instead of retrying.
 */
export class UnstorableMessageError extends Error {
  override readonly name = 'UnstorableMessageError';
  constructor(
    readonly subject: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${subject} can never be stored: ${reason}`, options);
  }
}

export type AppendOptions = {
  /** Last sequence of this subject the decision was based on; 0 = the subject must be empty. */
  expectedSeq: number | 'any';
  /** Becomes Nats-Msg-Id: a retried append with the same id is stored once. */
  msgId: string;
  meta: EnvelopeMeta;
};

/** The JetStream API errors an append tells apart (nats-server's errors.json; nats.js names only some of them). */
const AppendRefusal = {
  WrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence,
  /** JSStreamMessageExceedsMaximumErr: bigger than the stream's max_msg_size or the server's max_payload. */
  MessageExceedsMaximum: 10054,
} as const;

/** JetStream's answer to a publish: where it was stored, or why it was refused. */
const PubAck = z.object({
  seq: z.number().int().nonnegative().default(0),
  duplicate: z.boolean().default(false),
  error: z.object({ err_code: z.number().int(), description: z.string() }).optional(),
});

/** Writes to the stream, each append checked against the subject's expected last sequence; and where the log ends. */
export class Appender {
  constructor(
    private readonly ns: Namespace,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly connection: ConnectionWatch,
    private readonly request: Request,
  ) {}

  /** Append one or more events of one aggregate as one message. Returns the stream sequence. */
  async append(
    subject: string,
    events: readonly DomainEvent[],
    options: AppendOptions,
  ): Promise<{ seq: number; duplicate: boolean }> {
    let encoded;
    try {
      encoded = encodeEvents(events, options.meta);
    } catch (error) {
      if (error instanceof EventSchemaError) throw new UnstorableMessageError(subject, error.message, { cause: error });
      throw error;
    }
    await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
    const h = natsHeaders();
    for (const [k, v] of Object.entries(encoded.headers)) h.set(k, v);
    // What js.publish sends, through the shared reply inbox (replyInbox.ts: half the client CPU of nc.request).
    h.set('Nats-Msg-Id', options.msgId);
    if (options.expectedSeq !== 'any') h.set('Nats-Expected-Last-Subject-Sequence', String(options.expectedSeq));
    const reply = await this.request(subject, encoded.body, { timeoutMs: OPERATION_TIMEOUT_MS, headers: h });
    if (!reply.ok) {
      // The client refuses, before sending, what the server can never take (a message over its max_payload).
      if (reply.thrown instanceof InvalidArgumentError)
        throw new UnstorableMessageError(subject, reply.reason, { cause: reply.thrown });
      throw new NatsUnavailableError(
        `appending to ${subject}: ${reply.reason === 'no responders' ? `no stream stores ${subject}` : reply.reason}`,
      );
    }
    const ack = PubAck.parse(reply.msg.json());
    if (ack.error) {
      const { err_code: code, description } = ack.error;
      if (code === AppendRefusal.WrongLastSequence && options.expectedSeq !== 'any')
        throw new ConcurrencyError(subject, options.expectedSeq);
      if (code === AppendRefusal.MessageExceedsMaximum)
        throw new UnstorableMessageError(subject, `${description} (${code})`);
      throw new Error(`JetStream refused the append to ${subject}: ${description} (${code})`);
    }
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /** Publish raw bytes (tests and tools that must write what the codec would refuse, e.g. poison). */
  async appendRaw(subject: string, body: Uint8Array, headers: Record<string, string>): Promise<number> {
    const h = natsHeaders();
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
    return (await this.js.publish(subject, body, { headers: h })).seq;
  }

  /** Sequence of the last message on a subject, 0 when it has none. */
  async lastSeqOf(subject: string): Promise<number> {
    const msg = await this.jsm.streams.getMessage(this.ns.stream, { last_by_subj: subject });
    return msg?.seq ?? 0;
  }

  /** Sequence of the last message in the whole stream. */
  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.ns.stream);
    return info.state.last_seq;
  }
}
