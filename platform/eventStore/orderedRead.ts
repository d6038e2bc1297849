import { DeliverPolicy, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import type { Namespace } from '../../events/index.ts';
import { OPERATION_TIMEOUT_MS, type ConnectionWatch } from './connectionWatch.ts';
import { toRaw, type RawMessage } from './receivedMessage.ts';

export type ReadOptions = {
  fromSeq: number;
  filter?: string;
  untilSeq?: number;
  follow?: boolean;
  signal?: AbortSignal;
};

/** A reader that has waited this long for a message it is owed starts over with a fresh consumer. */
const READ_SILENCE_MS = 4_000;
const READ_FRUITLESS_RESTARTS = 3;

/** Reads the log in order, an ordered consumer at a time: a fresh one after a reconnect, or a silence while owed messages. */
export class OrderedReader {
  constructor(
    private readonly ns: Namespace,
    private readonly js: JetStreamClient,
    private readonly connection: ConnectionWatch,
    private readonly lastSeq: () => Promise<number>,
  ) {}

  /**
   * Read stored messages in order from `fromSeq`. With `untilSeq` it ends there; with `follow` it waits
   * for new messages until `signal` aborts; otherwise it ends at the stream's current end.
   *
   * The reader starts over from the next sequence it owes, with a fresh consumer, when the connection comes back
   * after an outage (a consumer from before a server restart may never deliver again) and when it has heard
   * nothing for a while although the log holds more for it. A bounded read that starts over a few times without
   * hearing anything fails, so its caller retries rather than waits forever.
   */
  async *read(options: ReadOptions): AsyncGenerator<RawMessage> {
    const { signal, follow = false } = options;
    const end = options.untilSeq ?? (follow ? Infinity : await this.lastSeq());
    const filter = options.filter ?? `${this.ns.events}.>`;
    // Every message up to `end` is stored already (deleted ones never come): the last one the consumer has ends the read.
    const toTheEnd = !follow && (options.untilSeq === undefined || options.untilSeq <= (await this.lastSeq()));
    let next = Math.max(1, options.fromSeq);
    let fruitless = 0;
    while (next <= end && !signal?.aborted) {
      await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
      const consumer = await this.js.consumers.get(this.ns.stream, {
        filter_subjects: filter,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: next,
      });
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
        deleteQuietly(consumer);
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
}

/**
 * A finished reader deletes its consumer rather than leave it to the server (nats.js gives an ordered consumer five
 * minutes of inactivity): readers that start over often would otherwise pile consumers up. Not awaited: nothing waits on it.
 */
function deleteQuietly(consumer: Consumer): void {
  try {
    consumer.delete().catch(() => {});
  } catch {
    // never created (the read stopped before its first pull): nothing to delete
  }
}
