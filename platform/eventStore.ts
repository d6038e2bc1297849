import { InvalidArgumentError, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headerBlock, messageHeaders } from './messageHeaders.ts';
import { RecentAcks } from './recentAcks.ts';
import { z } from 'zod';
import { ConnectionWatch, NatsUnavailableError } from './connectionWatch.ts';
import { replyInbox, type Request } from './replyInbox.ts';
import { decodeEvents, encodeEvents, EventSchemaError, type DomainEvent, type EnvelopeMeta, type Namespace } from '../events/index.ts';

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

/**
 * A raw stored message: consumers decode it themselves so that a bad one can be parked, not thrown. `headerBlock`,
 * when present, is the header block as received, for a reader that parses it elsewhere (another thread).
 */
export type RawMessage = { seq: number; subject: string; headers: Record<string, string>; body: Uint8Array; pending: number; headerBlock?: Uint8Array };
export type StoredEvents = { seq: number; subject: string; events: DomainEvent[]; meta: EnvelopeMeta };

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
/** A reader that has waited this long for a message it is owed starts over with a fresh consumer. */
const READ_SILENCE_MS = 4_000;
const READ_FRUITLESS_RESTARTS = 3;
/** How long a JetStream request waits for its answer, and an operation for a lost connection to come back. */
const OPERATION_TIMEOUT_MS = 10_000;

export class EventStore {
  private constructor(
    readonly ns: Namespace,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly connection: ConnectionWatch,
    private readonly request: Request = replyInbox(nc),
  ) {}

  /** Connect to the stream, creating or updating it idempotently (no age or size limit: the log is the truth). */
  static async open(nc: NatsConnection, ns: Namespace, options: { replicas?: number } = {}): Promise<EventStore> {
    const jsm = await jetstreamManager(nc, { timeout: OPERATION_TIMEOUT_MS });
    const config = {
      name: ns.stream,
      subjects: [`${ns.events}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: options.replicas ?? 1,
      max_age: 0,
      max_bytes: -1,
      max_msgs: -1,
      duplicate_window: 2 * 60 * 1_000_000_000,
      allow_direct: true,
    };
    try {
      await jsm.streams.info(ns.stream);
      await jsm.streams.update(ns.stream, config);
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw error;
      await jsm.streams.add(config);
    }
    return new EventStore(ns, nc, jetstream(nc, { timeout: OPERATION_TIMEOUT_MS }), jsm, new ConnectionWatch(nc));
  }

  /** Append one or more events of one aggregate as one message. Returns the stream sequence. */
  async append(subject: string, events: readonly DomainEvent[], options: AppendOptions): Promise<{ seq: number; duplicate: boolean }> {
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
      if (reply.thrown instanceof InvalidArgumentError) throw new UnstorableMessageError(subject, reply.reason, { cause: reply.thrown });
      throw new NatsUnavailableError(`appending to ${subject}: ${reply.reason === 'no responders' ? `no stream stores ${subject}` : reply.reason}`);
    }
    const ack = PubAck.parse(reply.msg.json());
    if (ack.error) {
      const { err_code: code, description } = ack.error;
      if (code === AppendRefusal.WrongLastSequence && options.expectedSeq !== 'any') throw new ConcurrencyError(subject, options.expectedSeq);
      if (code === AppendRefusal.MessageExceedsMaximum) throw new UnstorableMessageError(subject, `${description} (${code})`);
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

  /** Every event of one aggregate, decoded; an aggregate's history never holds poison (it was written by us). */
  async load(subject: string): Promise<{ history: StoredEvents[]; lastSeq: number }> {
    const last = await this.lastSeqOf(subject);
    const history: StoredEvents[] = [];
    if (last === 0) return { history, lastSeq: 0 };
    for await (const raw of this.read({ fromSeq: 1, filter: subject, untilSeq: last })) {
      const decoded = decodeEvents(raw.headers, raw.body);
      history.push({ seq: raw.seq, subject: raw.subject, ...decoded });
    }
    return { history, lastSeq: last };
  }

  /**
   * Read stored messages in order from `fromSeq`. With `untilSeq` it ends there; with `follow` it waits
   * for new messages until `signal` aborts; otherwise it ends at the stream's current end.
   *
   * The reader starts over from the next sequence it owes, with a fresh consumer, when the connection comes back
   * after an outage (a consumer from before a server restart may never deliver again) and when it has heard
   * nothing for a while although the log holds more for it. A bounded read that starts over a few times without
   * hearing anything fails, so its caller retries rather than waits forever.
   */
  async *read(options: { fromSeq: number; filter?: string; untilSeq?: number; follow?: boolean; signal?: AbortSignal }): AsyncGenerator<RawMessage> {
    const { signal, follow = false } = options;
    const end = options.untilSeq ?? (follow ? Infinity : await this.lastSeq());
    const filter = options.filter ?? `${this.ns.events}.>`;
    const toTheEnd = !follow && options.untilSeq === undefined;
    let next = Math.max(1, options.fromSeq);
    let fruitless = 0;
    while (next <= end && !signal?.aborted) {
      await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
      const consumer = await this.js.consumers.get(this.ns.stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next });
      const messages = await consumer.consume({ max_messages: 512 });
      let startOver: 'reconnected' | 'silent' | undefined;
      const close = (reason?: typeof startOver) => {
        startOver ??= reason;
        void messages.close();
      };
      const stop = () => close();
      signal?.addEventListener('abort', stop, { once: true });
      // Aborted while the consumer was being set up: the listener came too late to hear it.
      if (signal?.aborted) stop();
      const offReconnect = this.connection.onReconnect(() => close('reconnected'));
      // Silence counts only while this reader waits for the server, not while its caller holds a message.
      let waitingSince: number | undefined = Date.now();
      // Owed twice in a row, still unheard: a message stored just now is on its way and does not count.
      let owedAt: number | undefined;
      const watchdog = setInterval(() => {
        if (waitingSince === undefined || Date.now() - waitingSince < READ_SILENCE_MS) return;
        const sequence = next;
        void this.owes(sequence, end, follow && options.filter === undefined).then((owed) => {
          if (!owed || sequence !== next) owedAt = undefined;
          else if (owedAt === sequence) close('silent');
          else owedAt = sequence;
        });
      }, READ_SILENCE_MS / 2);
      let finished = false;
      try {
        for await (const m of messages) {
          const raw = toRaw(m);
          if (raw.seq > end) {
            finished = true;
            break;
          }
          next = raw.seq + 1;
          fruitless = 0;
          waitingSince = undefined;
          yield raw;
          waitingSince = Date.now();
          if (raw.seq >= end || (toTheEnd && raw.pending === 0)) {
            finished = true;
            break;
          }
        }
      } finally {
        clearInterval(watchdog);
        offReconnect();
        signal?.removeEventListener('abort', stop);
        await messages.close();
      }
      if (finished || signal?.aborted) return;
      // The consumer ended without being asked to (deleted, or closed by the client library): start over too.
      if (startOver === 'silent' && !follow && ++fruitless >= READ_FRUITLESS_RESTARTS) {
        throw new Error(`reading ${filter} from ${next} heard nothing after ${fruitless} fresh consumers`);
      }
    }
  }

  /** Does the log hold a message at or after `next` that a silent reader should have heard by now? */
  private async owes(next: number, end: number, wholeLog: boolean): Promise<boolean> {
    if (end !== Infinity) return next <= end;
    // A filtered follower cannot tell cheaply whether anything matching was stored: only reconnects restart it.
    if (!wholeLog) return false;
    return this.lastSeq().then(
      (last) => last >= next,
      () => false, // unreachable now: the reconnect will start it over
    );
  }

  /**
   * Work through the log with a durable consumer shared by every instance of a service: each message goes
   * to one instance, is redelivered until acknowledged, and `handle` decides ack or retry-later.
   *
   * On a reconnect it starts a fresh pull and acknowledges again, and waits for the server to confirm, what it
   * acknowledged shortly before: an acknowledgement in flight when a server stops is lost, and the message would sit
   * unacknowledged until the ack wait (minutes) ran out.
   */
  async consumeDurable(
    name: string,
    handle: (raw: RawMessage) => Promise<'ack' | { retryInMs: number }>,
    options: { signal: AbortSignal; ackWaitMs?: number; onError?: (error: unknown, raw: RawMessage) => void },
  ): Promise<void> {
    const { signal } = options;
    const ackWaitMs = options.ackWaitMs ?? 120_000;
    await this.ensureDurable(name, ackWaitMs);
    const consumer = await this.js.consumers.get(this.ns.stream, name);
    const recentAcks = new RecentAcks(this.nc);
    while (!signal.aborted) {
      await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
      const messages = await consumer.consume({ max_messages: 16 });
      const stop = () => void messages.close();
      signal.addEventListener('abort', stop, { once: true });
      if (signal.aborted) stop();
      // Messages of this pull still being worked on when the connection came back are acknowledged with confirmation:
      // a plain ack sent as the server comes back may be dropped like those in flight when it went.
      let reconnected = false;
      const offReconnect = this.connection.onReconnect(() => {
        reconnected = true;
        recentAcks.confirmAgain();
        stop();
      });
      try {
        for await (const m of messages) {
          const raw = toRaw(m);
          // Keep the message ours while a long run (a big digest) is still being worked on.
          const keepAlive = setInterval(() => m.working(), Math.max(1_000, ackWaitMs / 3));
          try {
            const outcome = await handle(raw);
            if (outcome === 'ack') {
              if (reconnected) recentAcks.confirmNow(m);
              else {
                m.ack();
                recentAcks.add(m);
              }
            } else m.nak(outcome.retryInMs);
          } catch (error) {
            options.onError?.(error, raw);
            m.nak(5_000);
          } finally {
            clearInterval(keepAlive);
          }
        }
      } finally {
        offReconnect();
        signal.removeEventListener('abort', stop);
        await messages.close();
      }
    }
  }

  private async ensureDurable(name: string, ackWaitMs: number): Promise<void> {
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${this.ns.events}.>`,
      ack_wait: ackWaitMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 64,
    };
    try {
      await this.jsm.consumers.info(this.ns.stream, name);
      await this.jsm.consumers.update(this.ns.stream, name, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending });
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10014) throw error;
      await this.jsm.consumers.add(this.ns.stream, config);
    }
  }

  /** Delete the stream (tests and benchmarks tidy up their own namespace). */
  async destroy(): Promise<void> {
    await this.jsm.streams.delete(this.ns.stream).catch(() => {});
  }
}

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

function toRaw(m: JsMsg): RawMessage {
  return new ReceivedMessage(m);
}

