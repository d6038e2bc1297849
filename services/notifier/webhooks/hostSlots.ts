/**
 * At most `perHost` deliveries to one host at a time: a slow endpoint holds that many senders, and the others go on
 * to other hosts. A delivery that finds its host's slots taken is not queued: it is looked at again shortly.
 */
export class HostSlots {
  private readonly busy = new Map<string, number>();

  constructor(private readonly perHost: number) {}

  /** A slot for `host`, to be released once the request ended; undefined when the host has none free. */
  take(host: string): (() => void) | undefined {
    const taken = this.busy.get(host) ?? 0;
    if (taken >= this.perHost) return undefined;
    this.busy.set(host, taken + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.busy.get(host) ?? 1) - 1;
      if (left === 0) this.busy.delete(host);
      else this.busy.set(host, left);
    };
  }
}
