import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../../platform/embedded.ts';
import { onExit } from './cleanup.ts';

/** A throwaway PostgreSQL cluster (initdb + pg_ctl) on a free loopback port: stopped and started at will by the test that owns it. */
export type PostgresCluster = {
  url: string;
  port: number;
  /** `fast` ends every session like an operator's stop; `immediate` is a crash. */
  stop: (mode?: 'fast' | 'immediate') => Promise<void>;
  start: () => Promise<void>;
  isRunning: () => boolean;
  destroy: () => Promise<void>;
  /** Where the server keeps its files on this machine (PGDATA: tables, pg_wal, …); none for a container. */
  dataDir?: string;
  /** The server's own log on this machine; none for a container. */
  logFile?: string;
};

/** `fullPageWrites`: as production runs it (a page's first change after a checkpoint written whole into the WAL); off by default, as a throwaway server can do without. */
export type PostgresClusterOptions = { fullPageWrites?: boolean };

function postgresBinaries(): { initdb: string; pgCtl: string } {
  const dirs = ['/usr/local/bin', '/usr/bin'];
  if (existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  }
  const dir = dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!dir) throw new Error('fault tests need PostgreSQL server binaries (initdb, pg_ctl): apt-get install postgresql');
  return { initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl') };
}

/** initdb refuses to run as root: as root, run the binaries as the postgres user. */
function run(binary: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0)
    throw new Error(`${binary} ${args[0]} failed (${result.status}): ${result.stderr || result.stdout}`);
}

export async function startPostgresCluster(settings: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const { initdb, pgCtl } = postgresBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'cra-fault-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const fullPageWrites = settings.fullPageWrites ? 'on' : 'off';
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=${fullPageWrites} -c max_connections=60`;
  const logFile = join(dir, 'postgres.log');
  let running = false;
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    run(pgCtl, ['stop', '-D', data, '-m', mode, '-w', '-t', '30']);
    running = false;
  };
  const start = async () => {
    run(pgCtl, ['start', '-D', data, '-o', options, '-l', logFile, '-w', '-t', '30']);
    running = true;
    await waitForPort(port);
  };
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    forget();
    try {
      stop('immediate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const forget = onExit(destroy);
  await start();
  // Async as a container's stop and removal are (test/faults/support/labServers.ts).
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir: data,
    logFile,
    start,
    isRunning: () => running,
    stop: async (mode) => stop(mode),
    destroy: async () => destroy(),
  };
}
