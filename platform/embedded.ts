import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePrivateDir, writePrivateFile } from './privateFiles.ts';

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
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

/** A server this process started. */
export type Embedded = {
  /** What clients connect with; it may carry credentials, so it is never logged. */
  url: string;
  /** Where it listens, safe to print. */
  address: string;
  stop: () => Promise<void>;
};

/** The nats-server binary: NATS_SERVER_BIN when set, else on PATH, or in Debian's /usr/sbin. */
export function findNatsServer(): string | undefined {
  const chosen = process.env.NATS_SERVER_BIN;
  if (chosen) return spawnSync(chosen, ['--version'], { stdio: 'ignore' }).status === 0 ? chosen : undefined;
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
  if (process.env.NATS_SERVER_BIN)
    throw new Error(`NATS_SERVER_BIN=${process.env.NATS_SERVER_BIN} is not a nats-server that runs (--version failed)`);
  const canApt = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (canApt) {
    log('nats-server is missing: installing it with apt-get (Debian package nats-server)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const installed = findNatsServer();
    if (installed) return installed;
  }
  throw new Error(
    'nats-server is not installed: run `sudo apt-get install nats-server` (Debian/Ubuntu) or get it from https://nats.io/download, or set NATS_URL',
  );
}

/** The version a nats-server binary prints (`nats-server: v2.9.10` → [2, 9, 10]). */
export function natsServerVersion(binary: string): [number, number, number] | undefined {
  const printed = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(printed);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * Up to 2.9.15 a cluster node keeps its route to a frozen peer (SIGSTOP, a hung VM) for as long as messages flow to
 * it: they hold off the pings that would notice (nats-io/nats-server#4014), and requests to queue groups routed there
 * are lost meanwhile. A cluster on such a server would lose commands under exactly the faults it is there for.
 */
export function noticesFrozenPeers([major, minor, patch]: [number, number, number]): boolean {
  return major > 2 || (major === 2 && (minor > 9 || (minor === 9 && patch >= 16)));
}

function refuseStaleRoutes(binary: string): void {
  const version = natsServerVersion(binary);
  if (version && noticesFrozenPeers(version)) return;
  throw new Error(
    `${binary} is nats-server ${version ? version.join('.') : '(unknown version)'}: a cluster needs 2.9.16 or later ` +
      '(earlier ones keep routing to a frozen node, nats-io/nats-server#4014). ' +
      'Run `eval "$(bash test/cluster/newer-nats-server.sh)"` to fetch one and set NATS_SERVER_BIN.',
  );
}

export type EmbeddedNats = Embedded & {
  port: number;
  password: string;
  /** Start it again on the same port, store and credentials (the fault tests restart it). */
  start: () => Promise<void>;
  /** SIGTERM is the server's own clean shutdown, SIGKILL a crash. */
  stop: (signal?: 'SIGTERM' | 'SIGKILL') => Promise<void>;
};

const NATS_USER = 'cra';

/** One node's place in a JetStream cluster of nats-servers on this machine (as deploy/nomad/nats.nomad.hcl forms one). */
export type NatsClusterSettings = {
  /** The cluster's name, the same on every node (`cra` in deploy/nomad). */
  name: string;
  /** This node's name, unique in the cluster (JetStream's Raft groups know the nodes by it). */
  serverName: string;
  /** The loopback port this node takes routes from the others on. */
  routePort: number;
  /** The route ports of every node, this one's included (a node ignores the route to itself). */
  routePorts: number[];
};

/**
 * The server's configuration: loopback only, JetStream in the data dir, and one user every client must be; in a
 * cluster, routes on loopback that only a node with the same password may open (another local user could otherwise
 * join as a route and read every message).
 */
export function natsServerConfig(options: {
  port: number;
  storeDir: string;
  user: string;
  password: string;
  maxPayload?: number;
  cluster?: NatsClusterSettings;
}): string {
  const { cluster } = options;
  const auth = `authorization { user: ${JSON.stringify(options.user)}, password: ${JSON.stringify(options.password)} }`;
  const routeAuth = `${encodeURIComponent(options.user)}:${encodeURIComponent(options.password)}`;
  return [
    // A frozen peer keeps its routes open: pinged every 2 s, 2 unanswered, its routes and the interest they carried
    // (queue subscriptions of clients that have left it) are dropped within ~6 s rather than after minutes.
    ...(cluster ? [`server_name: ${JSON.stringify(cluster.serverName)}`, 'ping_interval: "2s"', 'ping_max: 2'] : []),
    `listen: "127.0.0.1:${options.port}"`,
    ...(options.maxPayload === undefined ? [] : [`max_payload: ${options.maxPayload}`]),
    `jetstream { store_dir: ${JSON.stringify(options.storeDir)} }`,
    auth,
    ...(cluster
      ? [
          'cluster {',
          `  name: ${JSON.stringify(cluster.name)}`,
          `  listen: "127.0.0.1:${cluster.routePort}"`,
          `  ${auth}`,
          `  routes: [${cluster.routePorts.map((p) => JSON.stringify(`nats-route://${routeAuth}@127.0.0.1:${p}`)).join(', ')}]`,
          '}',
        ]
      : []),
    '',
  ].join('\n');
}

/** The data dir's NATS password: generated on its first start, the same on every later one. */
function natsPassword(dataDir: string): string {
  const file = join(dataDir, 'nats-password');
  if (!existsSync(file)) writePrivateFile(file, randomBytes(32).toString('hex'));
  return readFileSync(file, 'utf8').trim();
}

/**
 * A private `nats-server -js` child process with its store under `dataDir`, on loopback, that only clients with
 * the data dir's password may use (other local users could otherwise send any command). The password reaches
 * the server in a config file only its owner can read, never on the command line, which every user sees in `ps`.
 */
export async function startNatsServer(
  dataDir: string,
  port?: number,
  log?: (line: string) => void,
  /**
   * maxPayload: the largest message the server takes, in bytes (its default is 1 MB); the fault tests shrink it.
   * password: the clients' password, for nodes of one cluster (else the data dir's own). cluster: this node's place in one.
   */
  options: { maxPayload?: number; password?: string; cluster?: NatsClusterSettings } = {},
): Promise<EmbeddedNats> {
  const binary = ensureNatsServer(log);
  if (options.cluster) refuseStaleRoutes(binary);
  ensurePrivateDir(dataDir);
  const storeDir = join(dataDir, 'nats');
  ensurePrivateDir(storeDir);
  const configFile = join(dataDir, 'nats-server.conf');
  const pidFile = join(dataDir, 'nats-server.pid');
  const password = options.password ?? natsPassword(dataDir);
  const chosen = port ?? (await freePort());
  writePrivateFile(
    configFile,
    natsServerConfig({
      port: chosen,
      storeDir,
      user: NATS_USER,
      password,
      maxPayload: options.maxPayload,
      cluster: options.cluster,
    }),
  );
  let child: ChildProcess | undefined;
  let exited = Promise.resolve();
  const start = async () => {
    await stopStaleNatsServer(pidFile);
    const started = spawn(binary, ['-c', configFile], { stdio: 'ignore' });
    child = started;
    exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
    if (started.pid) writePrivateFile(pidFile, String(started.pid));
    try {
      await waitForPort(chosen);
    } catch (error) {
      // A server that never came up (its port taken, a bad store) is not left behind holding the store.
      started.kill('SIGKILL');
      await exited;
      rmSync(pidFile, { force: true });
      throw error;
    }
  };
  await start();
  return {
    url: `nats://${NATS_USER}:${password}@127.0.0.1:${chosen}`,
    address: `nats://127.0.0.1:${chosen}`,
    port: chosen,
    password,
    start,
    stop: async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
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

/** Linux's limit on the path of a Unix socket (sun_path less its closing NUL). */
const MAX_SOCKET_PATH = 107;
/** The file name `pg` looks for in the directory it is given as host. */
const POSTGRES_SOCKET = '.s.PGSQL.5432';

/**
 * Embedded Postgres: PGlite behind its socket server, so the same `pg` code runs against it. That server cannot ask
 * for a password, so it listens on a Unix socket in an owner-only directory rather than on a TCP port every local
 * user reaches: in the data dir, or in a private temporary directory when that path is too long for a socket.
 */
export async function startPglite(dataDir: string | undefined): Promise<Embedded> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = dataDir ? resolve(dataDir) : undefined;
  if (dir) [dir, join(dir, 'pglite')].forEach(ensurePrivateDir);
  const inDataDir = dir !== undefined && Buffer.byteLength(join(dir, POSTGRES_SOCKET)) <= MAX_SOCKET_PATH;
  const socketDir = inDataDir ? dir : mkdtempSync(join(tmpdir(), 'cra-pg-'));
  const socketPath = join(socketDir, POSTGRES_SOCKET);
  rmSync(socketPath, { force: true }); // left behind by a start that was killed outright
  const db = await PGlite.create(dir ? join(dir, 'pglite') : undefined);
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`,
    address: socketPath,
    stop: async () => {
      await server.stop();
      await db.close();
      if (!inDataDir) rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
