import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type Embedded = { url: string; port: number; stop: () => Promise<void> };

/** The nats-server binary: on PATH, or in Debian's /usr/sbin. */
export function findNatsServer(): string | undefined {
  for (const candidate of ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/**
 * Install nats-server with the system package manager where that works (root on Debian/Ubuntu);
 * otherwise say in one line exactly what to install.
 */
export function ensureNatsServer(log: (line: string) => void = () => {}): string {
  const found = findNatsServer();
  if (found) return found;
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canApt) {
    log('nats-server is missing: installing it with apt-get (Debian package nats-server)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const installed = findNatsServer();
    if (installed) return installed;
  }
  throw new Error('nats-server is not installed: run `sudo apt-get install nats-server` (Debian/Ubuntu) or get it from https://nats.io/download, or set NATS_URL');
}

/** A private `nats-server -js` child process with its store under `dataDir`, on loopback. */
export async function startNatsServer(dataDir: string, port?: number, log?: (line: string) => void): Promise<Embedded> {
  const binary = ensureNatsServer(log);
  const storeDir = join(dataDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const pidFile = join(dataDir, 'nats-server.pid');
  await stopStaleNatsServer(pidFile);
  const chosen = port ?? (await freePort());
  const child: ChildProcess = spawn(binary, ['-js', '-a', '127.0.0.1', '-p', String(chosen), '-sd', storeDir], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  await waitForPort(chosen);
  return {
    url: `nats://127.0.0.1:${chosen}`,
    port: chosen,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(pidFile, { force: true });
    },
  };
}

/** A nats-server left running by a start that was killed outright still holds the store: stop it first. */
async function stopStaleNatsServer(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nats-server')) return;
  } catch {
    return;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
}

/** Embedded Postgres: PGlite behind its socket server, so the same `pg` code runs against it. */
export async function startPglite(dataDir: string | undefined, port?: number): Promise<Embedded> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir ? join(dataDir, 'pglite') : undefined);
  const chosen = port ?? (await freePort());
  const server = new PGLiteSocketServer({ db, port: chosen, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${chosen}/postgres`,
    port: chosen,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
