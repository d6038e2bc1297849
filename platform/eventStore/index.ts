import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type DirectStreamAPI, type JetStreamManager } from '@nats-io/jetstream';
import { decodeEvents, type DomainEvent, type EnvelopeMeta, type Namespace } from '../../events/index.ts';
import { replyInbox } from '../replyInbox.ts';
import { Appender, type AppendOptions } from './append.ts';
import { ConnectionWatch, OPERATION_TIMEOUT_MS } from './connectionWatch.ts';
import { DurableConsumption, type DurableOptions } from './durableConsumption.ts';
import { OrderedReader, type ReadOptions } from './orderedRead.ts';
import { destroyStream, ensureStream } from './provisioning.ts';
import type { RawMessage } from './receivedMessage.ts';
import { readSubject } from './subjectRead.ts';

/** How long a direct get waits for a replica before the stream leader is asked instead. */
const DIRECT_GET_TIMEOUT_MS = 1_000;

export { ConcurrencyError, UnstorableMessageError, type AppendOptions } from './append.ts';
export { decideAndAppend, DECIDE_AGAIN, type Step, type SubjectHistory } from './decideAndAppend.ts';
export type { RawMessage } from './receivedMessage.ts';

export type StoredEvents = { seq: number; subject: string; events: DomainEvent[]; meta: EnvelopeMeta };

/**
 * The event log on JetStream, as one object for the services: provisioning (provisioning.ts), appends with optimistic
 * concurrency (append.ts), ordered reads with their restart watchdog (orderedRead.ts) and durable consumption
 * (durableConsumption.ts). Deciding on a subject and appending, again after a conflict: decideAndAppend.ts.
 */
export class EventStore {
  private constructor(
    readonly ns: Namespace,
    private readonly jsm: JetStreamManager,
    private readonly direct: DirectStreamAPI,
    private readonly appender: Appender,
    private readonly reader: OrderedReader,
    private readonly durable: DurableConsumption,
  ) {}

  /** Connect to the stream, creating or updating it idempotently. */
  static async open(nc: NatsConnection, ns: Namespace, options: { replicas?: number } = {}): Promise<EventStore> {
    const jsm = await jetstreamManager(nc, { timeout: OPERATION_TIMEOUT_MS });
    await ensureStream(jsm, ns, options.replicas ?? 1);
    const js = jetstream(nc, { timeout: OPERATION_TIMEOUT_MS });
    const connection = new ConnectionWatch(nc);
    const appender = new Appender(ns, js, jsm, connection, replyInbox(nc));
    const reader = new OrderedReader(ns, js, connection, () => appender.lastSeq());
    // Direct gets wait briefly: a replica that does not answer soon is passed over for the stream leader (subjectRead.ts).
    const { direct } = await jetstreamManager(nc, { timeout: DIRECT_GET_TIMEOUT_MS, checkAPI: false });
    return new EventStore(ns, jsm, direct, appender, reader, new DurableConsumption(ns, nc, js, jsm, connection));
  }

  /** Append one or more events of one aggregate as one message. Returns the stream sequence. */
  append(
    subject: string,
    events: readonly DomainEvent[],
    options: AppendOptions,
  ): Promise<{ seq: number; duplicate: boolean }> {
    return this.appender.append(subject, events, options);
  }

  /** Publish raw bytes (tests and tools that must write what the codec would refuse, e.g. poison). */
  appendRaw(subject: string, body: Uint8Array, headers: Record<string, string>): Promise<number> {
    return this.appender.appendRaw(subject, body, headers);
  }

  /** Sequence of the last message on a subject, 0 when it has none. */
  lastSeqOf(subject: string): Promise<number> {
    return this.appender.lastSeqOf(subject);
  }

  /** Sequence of the last message in the whole stream. */
  lastSeq(): Promise<number> {
    return this.appender.lastSeq();
  }

  /**
   * Every event of one aggregate, decoded; an aggregate's history never holds poison (it was written by us). Read
   * without a consumer (subjectRead.ts), up to the subject's last sequence as the stream leader knows it.
   */
  async load(subject: string): Promise<{ history: StoredEvents[]; lastSeq: number }> {
    const last = await this.lastSeqOf(subject);
    if (last === 0) return { history: [], lastSeq: 0 };
    const messages = await readSubject(this.ns.stream, subject, last, { direct: this.direct, leader: this.jsm });
    const history = messages.map((m): StoredEvents => ({
      seq: m.seq,
      subject: m.subject,
      ...decodeEvents(m.headers, m.body),
    }));
    return { history, lastSeq: last };
  }

  /** Stored messages in order from `fromSeq`: to `untilSeq`, to the current end, or following the log (orderedRead.ts). */
  read(options: ReadOptions): AsyncGenerator<RawMessage> {
    return this.reader.read(options);
  }

  /** Work through the log with a durable consumer shared by every instance of a service (durableConsumption.ts). */
  consumeDurable(
    name: string,
    handle: (raw: RawMessage) => Promise<'ack' | { retryInMs: number }>,
    options: DurableOptions,
  ): Promise<void> {
    return this.durable.consume(name, handle, options);
  }

  /** Delete the stream (tests and benchmarks tidy up their own namespace). */
  destroy(): Promise<void> {
    return destroyStream(this.jsm, this.ns);
  }
}
