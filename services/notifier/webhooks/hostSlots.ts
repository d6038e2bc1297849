/**
 * At most `perHost` deliveries to one host at a time, and at most as many more waiting for one of them (each up to
 * `maxWaitMs`): a slow endpoint holds that many senders, and the others go on to other hosts. A delivery that finds
 * even the queue full gets no slot (it is looked at again shortly), unless the host is moving: a slot of it changed
 * hands within the last `movingMs`. Then it waits too, while the host keeps moving, up to `overflowWaitMs`: a host
 * that answers fast frees a slot in moments, and a delivery turned away would be looked at again only after half a
 * second or more, long after the slot came free (one host taking a run's webhooks, such as Slack's, was sent at a
 * fraction of its pace). A host that stops answering stops moving: within `movingMs` those extra waiters leave, and
 * from then on it holds only its own slots and queue; one that moves slowly holds each extra waiter no longer than
 * `overflowWaitMs`.
 */
export class HostSlots {
  private readonly busy = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  /** When a slot of each busy host was last taken or passed on. */
  private readonly moved = new Map<string, number>();

  constructor(
    private readonly perHost: number,
    private readonly maxWaitMs = 2_000,
    options: { movingMs?: number; overflowWaitMs?: number; now?: () => number } = {},
  ) {
    this.movingMs = options.movingMs ?? 100;
    this.overflowWaitMs = options.overflowWaitMs ?? 250;
    this.now = options.now ?? Date.now;
  }

  private readonly movingMs: number;
  private readonly overflowWaitMs: number;
  private readonly now: () => number;

  /** A slot for `host`, to be released once the request ended; undefined when none came free in time. */
  async take(host: string): Promise<(() => void) | undefined> {
    if ((this.busy.get(host) ?? 0) >= this.perHost) {
      const queue = this.waiting.get(host) ?? [];
      const moving = this.now() - (this.moved.get(host) ?? -Infinity) < this.movingMs;
      if (queue.length >= this.perHost && !moving) return undefined;
      this.waiting.set(host, queue);
      const overflow = queue.length >= this.perHost;
      const deadline = this.now() + this.overflowWaitMs;
      const woken = await new Promise<boolean>((resolve) => {
        const wake = () => (clearTimeout(timer), resolve(true));
        const giveUp = () => {
          queue.splice(queue.indexOf(wake), 1);
          resolve(false);
        };
        // Beyond the queue: while the host keeps moving, up to overflowWaitMs.
        const stillMoving = () => {
          const quietFor = this.now() - (this.moved.get(host) ?? -Infinity);
          if (quietFor >= this.movingMs || this.now() >= deadline) giveUp();
          else timer = setTimeout(stillMoving, this.movingMs - quietFor);
        };
        let timer = overflow ? setTimeout(stillMoving, this.movingMs) : setTimeout(giveUp, this.maxWaitMs);
        queue.push(wake);
      });
      // Woken: the slot of the request that ended passed to this one, busy count unchanged.
      if (!woken) return undefined;
    } else this.busy.set(host, (this.busy.get(host) ?? 0) + 1);
    this.moved.set(host, this.now());
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.get(host)?.shift();
      if (next) return next();
      const left = (this.busy.get(host) ?? 1) - 1;
      if (left === 0) {
        this.busy.delete(host);
        this.moved.delete(host);
      } else this.busy.set(host, left);
      if (this.waiting.get(host)?.length === 0) this.waiting.delete(host);
    };
  }
}
