import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mib, progress } from './report.ts';

type AnyFn = (...args: never[]) => unknown;
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type ServiceProcess<M> = {
  name: string;
  pid: number;
  call<K extends keyof M>(
    op: K,
    ...args: M[K] extends AnyFn ? Parameters<M[K]> : never
  ): Promise<M[K] extends AnyFn ? Awaited<ReturnType<M[K]>> : never>;
  /** Start the peak over from now; returns the RSS at rest. */
  resetPeak(): Promise<number>;
  /** Peak RSS since the last reset. */
  peak(): Promise<number>;
  /** CPU seconds (user + system) the process has used so far. */
  cpu(): Promise<number>;
  close(): Promise<void>;
};

const HOST = fileURLToPath(new URL('./serviceHost.ts', import.meta.url));

/** Options every service process of a run gets (e.g. --cpu-prof while finding where the time goes). */
export const childOptions: { cpuProfileDir?: string } = {};

/**
 * A role module (bench/roles/*.ts) in its own Node process, with the same flags for a service and its baseline:
 * each service runs as it would deployed (one per process), and its memory is its own.
 */
export async function spawnService<M>(name: string, roleUrl: URL): Promise<ServiceProcess<M>> {
  // BENCH_ROLE_<NAME>=/path/variant.ts measures a variant of one service (a design change being tried) in its place.
  const variant = process.env[`BENCH_ROLE_${name.toUpperCase().replaceAll('-', '_')}`];
  if (variant) {
    progress(`${name}: measuring the variant ${variant}, not the service as it is`);
    roleUrl = pathToFileURL(variant);
  }
  const execArgv = ['--import', 'tsx'];
  if (childOptions.cpuProfileDir) {
    // One folder per service process: Node writes a profile per thread (the main one is the largest).
    const dir = join(childOptions.cpuProfileDir, `${name}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  // The child's stdout goes to our stderr: our stdout carries only the JSON figures.
  const child: ChildProcess = fork(HOST, [fileURLToPath(roleUrl)], {
    execArgv,
    stdio: ['ignore', 2, 2, 'ipc'],
    serialization: 'advanced',
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`${name} process exited`));
    pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} process exited with ${code} before it was ready`)));
    child.once('message', () => resolve());
  });
  child.on('message', (message: Reply) => {
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.result);
    else p.reject(new Error(`${name}: ${message.error}`));
  });
  const request = (op: string, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, args });
    });
  return {
    name,
    pid: child.pid!,
    call: ((op: string, ...args: unknown[]) => request(op, args)) as ServiceProcess<M>['call'],
    resetPeak: async () => ((await request('__memory', [true])) as { rss: number }).rss,
    peak: async () => ((await request('__memory', [false])) as { peak: number }).peak,
    cpu: async () => (await request('__cpu', [])) as number,
    close: async () => {
      if (child.exitCode === null) {
        await request('__exit', []).catch(() => {});
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Measure `work` while sampling the service's RSS: the service's memory at rest just before, and its peak during. */
export async function underLoad<T>(
  service: ServiceProcess<unknown>,
  work: () => Promise<T>,
): Promise<{ result: T; memory: { atRestMiB: number; peakMiB: number } }> {
  const atRest = await service.resetPeak();
  const result = await work();
  const peak = await service.peak();
  return { result, memory: { atRestMiB: mib(atRest), peakMiB: mib(peak) } };
}
