import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../platform/config.ts';
import { parseMasterKey } from '../platform/personalData/masterKey.ts';
import { startNatsServer, startPglite, type Embedded } from '../platform/embedded.ts';
import type { Logger } from '../platform/logger.ts';
import { ensurePrivateDir, tightenPrivateDir, writePrivateFile } from '../platform/privateFiles.ts';

/** Where a running `cra start` says its embedded servers listen, so other `cra` commands can find them (owner only: natsUrl holds the password). */
type RuntimeFile = { pid: number; natsUrl?: string; databaseUrl?: string; webUrl?: string };

const runtimePath = (config: Config) => join(resolve(config.CRA_DATA_DIR), 'runtime.json');

/** The dev-only cookie secret: generated once and kept in the data dir (JWT_SECRET wins when set). */
export function resolveSecret(config: Config): string {
  return config.JWT_SECRET ?? generatedOnce(config, 'jwt-secret', () => randomBytes(48).toString('base64url'));
}

/**
 * The master key of personal data (platform/personalData): CRA_MASTER_KEY, else generated once and kept in the data
 * dir (owner only). Losing it loses every person's data in the log, as destroying each person's key would.
 */
export function resolveMasterKey(config: Config): Buffer {
  const text = config.CRA_MASTER_KEY ?? generatedOnce(config, 'master-key', () => randomBytes(32).toString('hex'));
  const key = parseMasterKey(text);
  if (typeof key === 'string') throw new Error(`the master key in ${config.CRA_DATA_DIR} is not one: ${key}`);
  return key;
}

function generatedOnce(config: Config, name: string, make: () => string): string {
  const dir = resolve(config.CRA_DATA_DIR);
  ensurePrivateDir(dir);
  const file = join(dir, name);
  if (!existsSync(file)) writePrivateFile(file, make());
  return readFileSync(file, 'utf8').trim();
}

/** embeddedPostgres: PGlite behind its socket server mixes up statements of concurrent connections, so its users keep one. */
export type Endpoints = { natsUrl: string; databaseUrl: string; embeddedPostgres: boolean };
export type Infrastructure = Endpoints & { embedded: Embedded[]; stop: () => Promise<void> };

/** Real servers from the environment, or embedded ones in the data dir (`cra start` only). */
export async function startInfrastructure(config: Config, logger: Logger): Promise<Infrastructure> {
  const dataDir = resolve(config.CRA_DATA_DIR);
  // Data dirs of older starts let every local user read the secrets in them.
  tightenPrivateDir(dataDir);
  const embedded: Embedded[] = [];
  let natsUrl = config.NATS_URL;
  let databaseUrl = config.DATABASE_URL;
  if (!natsUrl || !databaseUrl) refuseLiveOwner(config);
  try {
    if (!natsUrl) {
      const nats = await startNatsServer(dataDir, undefined, (line) => logger.warn(line));
      embedded.push(nats);
      natsUrl = nats.url;
      logger.info({ address: nats.address }, 'started embedded nats-server with JetStream');
    }
    if (!databaseUrl) {
      const pglite = await startPglite(dataDir);
      embedded.push(pglite);
      databaseUrl = pglite.url;
      logger.info({ address: pglite.address }, 'started embedded Postgres (PGlite)');
    }
  } catch (error) {
    for (const e of [...embedded].reverse()) await e.stop().catch(() => {});
    throw error;
  }
  if (embedded.length > 0) {
    const record: RuntimeFile = {
      pid: process.pid,
      ...(config.NATS_URL ? {} : { natsUrl }),
      ...(config.DATABASE_URL ? {} : { databaseUrl }),
    };
    writePrivateFile(runtimePath(config), JSON.stringify(record));
  }
  return {
    natsUrl,
    databaseUrl,
    embeddedPostgres: !config.DATABASE_URL,
    embedded,
    stop: async () => {
      if (embedded.length > 0) rmSync(runtimePath(config), { force: true });
      for (const e of [...embedded].reverse()) await e.stop();
    },
  };
}

export class NotRunningError extends Error {}

/** A second `cra start` on a data dir whose embedded servers a running one owns; its message is the line to print. */
export class AlreadyRunningError extends Error {}

/**
 * The embedded servers' store belongs to one `cra start` at a time: refuse while the one runtime.json names is alive
 * (a start killed outright leaves runtime.json and maybe its nats-server, which startNatsServer then stops).
 */
function refuseLiveOwner(config: Config): void {
  let pid: number;
  try {
    pid = (JSON.parse(readFileSync(runtimePath(config), 'utf8')) as RuntimeFile).pid;
    if (pid === process.pid || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cra')) return;
  } catch {
    return;
  }
  throw new AlreadyRunningError(
    `cra start is already running on ${resolve(config.CRA_DATA_DIR)} (pid ${pid}): stop it first, or set CRA_DATA_DIR to another directory`,
  );
}

/** For `cra fetch-rates|replay|events`: the environment's servers, else those of the running `cra start`. */
export async function findInfrastructure(config: Config): Promise<Endpoints> {
  let record: RuntimeFile | undefined;
  if (!config.NATS_URL || !config.DATABASE_URL) {
    try {
      record = JSON.parse(readFileSync(runtimePath(config), 'utf8')) as RuntimeFile;
      process.kill(record.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') {
        throw new NotRunningError(
          `${runtimePath(config)} is readable by its owner only: run this as the user who runs \`cra start\``,
        );
      }
      throw new NotRunningError(
        `NATS_URL and DATABASE_URL are not both set and no running \`cra start\` was found in ${resolve(config.CRA_DATA_DIR)}: start it (npm start) or set them`,
      );
    }
  }
  const natsUrl = config.NATS_URL ?? record?.natsUrl;
  const databaseUrl = config.DATABASE_URL ?? record?.databaseUrl;
  if (!natsUrl || !databaseUrl)
    throw new NotRunningError('the running `cra start` uses external servers: set NATS_URL and DATABASE_URL');
  return { natsUrl, databaseUrl, embeddedPostgres: !config.DATABASE_URL };
}
