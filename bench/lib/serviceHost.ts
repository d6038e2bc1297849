// Child-process entry: hosts one role module (a service under benchmark, or its baseline) and runs its exported
// functions on request over IPC, sampling its own RSS so each service's peak memory is its own.
import { pathToFileURL } from 'node:url';

type Request = { id: number; op: string; args: unknown[] };

const SAMPLE_MS = 20;
let peak = process.memoryUsage.rss();
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, SAMPLE_MS);
sampler.unref();

const role = (await import(pathToFileURL(process.argv[2]!).href)) as Record<string, (...args: unknown[]) => unknown>;

const builtins: Record<string, (...args: unknown[]) => unknown> = {
  /** RSS now; with reset, the peak starts again from now (call it just before the load). */
  __memory: (reset: unknown) => {
    const rss = process.memoryUsage.rss();
    peak = Math.max(peak, rss);
    const out = { rss, peak };
    if (reset === true) peak = rss;
    return out;
  },
  /** CPU seconds (user + system) this process has used so far. */
  __cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  },
  __exit: () => {
    setImmediate(() => process.exit(0));
    return true;
  },
};

process.on('message', (message: Request) => {
  const fn = builtins[message.op] ?? role[message.op];
  void (async () => {
    try {
      if (typeof fn !== 'function') throw new Error(`role ${process.argv[2]} has no function ${message.op}`);
      const result = await fn(...message.args);
      process.send!({ id: message.id, ok: true, result });
    } catch (error) {
      process.send!({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
