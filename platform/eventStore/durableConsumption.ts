import type { NatsConnection } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { Namespace } from '../../events/index.ts';
import { OPERATION_TIMEOUT_MS, type ConnectionWatch } from './connectionWatch.ts';
import { ensureDurable } from './provisioning.ts';
import { toRaw, type RawMessage } from './receivedMessage.ts';
import { RecentAcks } from './recentAcks.ts';

export type DurableOptions = {
  signal: AbortSignal;
  ackWaitMs?: number;
  /**
   * How many messages one instance works on at once (default 1, in order). More suits a long message (a day's run) or
   * handlers that wait on slow outsiders (webhooks): each is still acknowledged or retried on its own, as its handler
   * ends.
   */
  concurrency?: number;
  onError?: (error: unknown, raw: RawMessage) => void;
  /** The server stopped sending the pull's heartbeats (its consumer's leader moved, or its node froze): pulling anew. */
  onSilence?: (missedHeartbeats: number) => void;
  /**
   * Messages handed out and not yet acknowledged, across every instance (default 64). A message told to come back later
   * counts until it does: a consumer whose messages wait long (webhook retries, up to a day) needs room for them all.
   */
  maxAckPending?: number;
};

/**
 * A pull asks the server for a heartbeat every second while it has nothing to deliver, and lasts 5 s. A consumer whose
 * leader moves (a step-down, a node lost) forgets the pulls waiting on it while the client's connection stays up:
 * two missed heartbeats (about 2 s) make the client pull again, from the new leader. nats.js's defaults (15 s and
 * 30 s) left the notifier silent for 18–42 s after a step-down.
 */
const PULL = { expires: 5_000, idle_heartbeat: 1_000 } as const;

/** The store's durable consumers: one per service, shared by its instances. */
export class DurableConsumption {
  constructor(
    private readonly ns: Namespace,
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly connection: ConnectionWatch,
  ) {}

  /**
   * Work through the log with a durable consumer shared by every instance of a service: each message goes
   * to one instance, is redelivered until acknowledged, and `handle` decides ack or retry-later.
   *
   * On a reconnect it starts a fresh pull and acknowledges again, and waits for the server to confirm, what it
   * acknowledged shortly before: an acknowledgement in flight when a server stops is lost, and the message would sit
   * unacknowledged until the ack wait (minutes) ran out.
   */
  async consume(
    name: string,
    handle: (raw: RawMessage) => Promise<'ack' | { retryInMs: number }>,
    options: DurableOptions,
  ): Promise<void> {
    const { signal } = options;
    const ackWaitMs = options.ackWaitMs ?? 120_000;
    const concurrency = Math.max(1, options.concurrency ?? 1);
    await ensureDurable(this.jsm, this.ns, name, ackWaitMs, { maxAckPending: options.maxAckPending });
    const consumer = await this.js.consumers.get(this.ns.stream, name);
    const recentAcks = new RecentAcks(this.nc);
    while (!signal.aborted) {
      await this.connection.whenConnected(OPERATION_TIMEOUT_MS);
      const messages = await consumer.consume({ max_messages: 16, ...PULL });
      void (async () => {
        for await (const status of messages.status())
          if (status.type === 'heartbeats_missed') options.onSilence?.(status.count);
      })();
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
      const working = new Set<Promise<void>>();
      const work = async (m: JsMsg) => {
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
      };
      try {
        for await (const m of messages) {
          const done: Promise<void> = work(m).finally(() => working.delete(done));
          working.add(done);
          if (working.size >= concurrency) await Promise.race(working);
        }
      } finally {
        // Work never rejects (its errors go to onError): wait for what this pull handed out before pulling anew.
        await Promise.all(working);
        offReconnect();
        signal.removeEventListener('abort', stop);
        await messages.close();
      }
    }
  }
}
