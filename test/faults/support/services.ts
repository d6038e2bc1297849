import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onExit } from './cleanup.ts';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const loopbackOnly = new URL('../fixtures/loopbackOnly.mjs', import.meta.url).href;

export type LogLine = { level?: number; msg?: string; [key: string]: unknown };

/** One real process of ours (`cra …` or a fixture), its output kept line by line for the test to read. */
export type ServiceProcess = {
  label: string;
  pid: number;
  /** Every stdout and stderr line, as printed. */
  output: string[];
  /** The JSON log lines among them. */
  logs: () => LogLine[];
  waitForLog: (predicate: (line: LogLine) => boolean, timeoutMs?: number, what?: string) => Promise<LogLine>;
  /** Signal it now (synchronously: a test kills at an exact moment). */
  kill: (signal: NodeJS.Signals) => void;
  isAlive: () => boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
};

/** Every spawned process, so none outlives the test worker. */
const alive = new Set<ChildProcess>();
onExit(() => {
  for (const child of alive) child.kill('SIGKILL');
});

function track(label: string, child: ChildProcess): ServiceProcess {
  alive.add(child);
  const output: string[] = [];
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      output.push(...parts.filter((p) => p !== ''));
    });
    stream?.on('end', () => {
      if (rest) output.push(rest);
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      alive.delete(child);
      resolve({ code, signal });
    }),
  );
  const logs = () =>
    output.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  const isAlive = () => child.exitCode === null && child.signalCode === null;
  return {
    label,
    pid: child.pid!,
    output,
    logs,
    isAlive,
    exited,
    kill: (signal) => {
      if (isAlive()) child.kill(signal);
    },
    waitForLog: async (predicate, timeoutMs = 20_000, what = 'a log line') => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs().find(predicate);
        if (found) return found;
        if (!isAlive()) throw new Error(`${label} exited before ${what}:\n${output.slice(-20).join('\n')}`);
        if (Date.now() > deadline)
          throw new Error(`${label}: no ${what} within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    stop: async (graceMs = 12_000) => {
      if (!isAlive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Run `node bin/cra.mjs <args>` with exactly `env` (nothing inherited but PATH), listening on loopback only. */
export function spawnCra(args: string[], env: Record<string, string>, label = `cra ${args.join(' ')}`): ServiceProcess {
  return spawnNode(['bin/cra.mjs', ...args], env, label);
}

/** Run a TypeScript fixture (through tsx) in its own process, the same way. */
export function spawnFixture(path: string, env: Record<string, string>, label = path): ServiceProcess {
  return spawnNode(['--import', 'tsx', path], env, label);
}

function spawnNode(args: string[], env: Record<string, string>, label: string): ServiceProcess {
  const child = spawn(process.execPath, ['--import', loopbackOnly, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(label, child);
}

/** Start `cra start <services…>` and wait until it says it started. */
export async function startServices(
  services: string[],
  env: Record<string, string>,
  label = services.join('+'),
): Promise<ServiceProcess> {
  const service = spawnCra(['start', ...services], env, label);
  await service.waitForLog((l) => l.msg === 'started', 30_000, '"started"');
  return service;
}

/** Run a one-shot `cra` command to its end; its stdout lines and exit code. */
export async function runCra(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string[]; output: string[] }> {
  const child = spawn(process.execPath, ['--import', loopbackOnly, 'bin/cra.mjs', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  alive.add(child);
  const stdout: string[] = [];
  const output: string[] = [];
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  alive.delete(child);
  stdout.push(...out.split('\n').filter((l) => l !== ''));
  output.push(...stdout, ...err.split('\n').filter((l) => l !== ''));
  return { code, stdout, output };
}

/** The services `cra start` runs, each its own process here, as the Nomad job runs them. */
export const SERVICES = ['web', 'command', 'projector', 'notifier', 'scheduler'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** `instances` processes of each service; the web ones on their own loopback ports. */
export type ServiceFleet = {
  processes: ServiceProcess[];
  of: (service: ServiceName) => ServiceProcess[];
  /** Where each web instance answers, http://127.0.0.1:<port>. */
  webUrls: string[];
  stop: () => Promise<void>;
};

/**
 * Start `instances` of every service, one `cra start <service>` process each, with `env(extra)` as their environment
 * (a lab's `env`); web instance i listens on `webPorts[i]`.
 */
export async function startServiceFleet(
  env: (extra?: Record<string, string>) => Record<string, string>,
  options: {
    instances?: number;
    webPorts: number[];
    services?: readonly ServiceName[];
    extraEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  },
): Promise<ServiceFleet> {
  const instances = options.instances ?? 2;
  const services = options.services ?? SERVICES;
  const plan = services.flatMap((service) => Array.from({ length: instances }, (_, i) => ({ service, i })));
  const processes = await Promise.all(
    plan.map(({ service, i }) =>
      startServices(
        [service],
        env({ ...(service === 'web' ? { PORT: String(options.webPorts[i]) } : {}), ...options.extraEnv?.[service] }),
        `${service}-${i + 1}`,
      ),
    ),
  );
  const byService = (service: ServiceName) => processes.filter((_, k) => plan[k]!.service === service);
  return {
    processes,
    of: byService,
    webUrls: services.includes('web') ? options.webPorts.slice(0, instances).map((p) => `http://127.0.0.1:${p}`) : [],
    stop: async () => {
      await Promise.all(processes.map((p) => p.stop()));
    },
  };
}
