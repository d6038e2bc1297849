import type { NatsConnection } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';

const REMEMBER_MS = 30_000;
const REMEMBER_AT_MOST = 2_048;
const ATTEMPTS = 10;

type Ack = { reply: string; at: number };

/**
 * The acknowledgements a durable consumer sent lately, so they can be sent again, confirmed, after a reconnect:
 * one in flight when the server stopped was lost with it. Acknowledging a message twice is harmless.
 */
export class RecentAcks {
  /** A ring of the last REMEMBER_AT_MOST acknowledgements: `next` is where the next one goes. */
  private acks: (Ack | undefined)[] = [];
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly now: () => number = Date.now,
  ) {}

  add(m: JsMsg): void {
    // The acknowledgement subject (the message's reply subject) is public on the message, not on its interface.
    const reply = (m as JsMsg & { reply?: string }).reply;
    if (!reply) return;
    this.acks[this.next] = { reply, at: this.now() };
    this.next = (this.next + 1) % REMEMBER_AT_MOST;
  }

  /** Acknowledge a message now and keep at it until the server confirms it. */
  confirmNow(m: JsMsg): void {
    const reply = (m as JsMsg & { reply?: string }).reply;
    if (reply) void this.confirm(reply);
    else m.ack();
  }

  /** Acknowledge again every recent message until the server confirms it (it may still be starting). */
  confirmAgain(): void {
    const since = this.now() - REMEMBER_MS;
    const due = this.acks.filter((a): a is Ack => a !== undefined && a.at >= since);
    this.acks = [];
    this.next = 0;
    for (const { reply } of due) void this.confirm(reply);
  }

  private async confirm(reply: string): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS && !this.nc.isClosed(); attempt++) {
      try {
        await this.nc.request(reply, '+ACK', { timeout: 2_000 });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }
}
