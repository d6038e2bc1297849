import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { namespaceFor, type Namespace } from '../../../events/index.ts';
import { commandClient, type SendCommand } from '../../../platform/commandClient.ts';
import { PersonalData } from '../../../platform/personalData/index.ts';
import { TEST_MASTER_KEY, testMasterKey } from '../../personalKeys.ts';
import { EventStore } from '../../../platform/eventStore/index.ts';
import { createLogger, type Logger } from '../../../platform/logger.ts';
import { connectNats, type NatsConnection } from '../../../platform/nats.ts';
import { createPool, quoteIdent, type Pool } from '../../../platform/postgres.ts';
import { linkSecret } from '../../../platform/tokens.ts';
import { readCheckpoint } from '../../../services/projector/projector.ts';
import type { FetchRatesResult } from '../../../services/scheduler/fetchRates.ts';
import { appendRun } from '../../runs.ts';
import { onExit } from './cleanup.ts';
import { startMailServer, type MailServer } from './mailServer.ts';
import { startLabServers } from './labServers.ts';
import { startPrivateNatsCluster, type PrivateNats, type PrivateNatsCluster } from './natsServer.ts';
import { startPostgresCluster, type PostgresCluster, type PostgresClusterOptions } from './postgresCluster.ts';

export const PUBLIC_URL = 'http://cra.test:7007';
export const MAIL_FROM = 'CRA <alerts@cra.test>';
export const MAIL_DOMAIN = 'cra.test';

/** What a lab needs of its NATS: the single server of openLab, or the cluster of openClusterLab. */
export type LabNats = { url: string; password: string; destroy: () => Promise<void> };
/** What a lab needs of its Postgres: a private cluster it may stop, or the machine's server (a schema of its own). */
export type LabDatabase = { url: string; destroy: () => void };

/**
 * One fault test's private world: its own NATS server (with its own store) and PostgreSQL on free loopback ports
 * (local processes, or containers: labServers.ts), a mail server, and a connection of the test's own to each, so
 * the test can disturb any of them without touching the machine's shared servers.
 */
export type Lab<N extends LabNats = PrivateNats, P extends LabDatabase = PostgresCluster> = {
  tag: string;
  ns: Namespace;
  schema: string;
  nats: N;
  postgres: P;
  mail: MailServer;
  nc: NatsConnection;
  store: EventStore;
  /** Personal data under the test master key, which every process of the lab is given (CRA_MASTER_KEY). */
  personal: PersonalData;
  jsm: JetStreamManager;
  pool: Pool;
  logger: Logger;
  jwtSecret: string;
  linkSecret: Buffer;
  send: SendCommand;
  /** Everything that must never appear in the log: passwords typed, tokens emailed, server secrets. */
  secrets: Set<string>;
  /** The environment of a `cra` process of this lab (nothing inherited). */
  env: (extra?: Record<string, string>) => Record<string, string>;
  /** Append one rates run, as the scheduler does (same subject, same message id), from the given publication. */
  publishRun: (asOf: string, rates: Record<string, string>) => Promise<FetchRatesResult>;
  /**
   * Once traffic has stopped: wait until the notifier's durable consumer has acknowledged the whole log and the
   * projector has applied it, and nothing has moved for a second.
   */
  settle: (options?: { timeoutMs?: number; notifier?: boolean }) => Promise<number>;
  /** Wait until the notifier has acknowledged every message up to the log's end as of now, traffic or not. */
  notifierCatchesUp: (options?: { timeoutMs?: number }) => Promise<void>;
  /** Wait until the projector has applied the log up to `seq`. */
  projectorReaches: (seq: number, options?: { timeoutMs?: number }) => Promise<void>;
  close: () => Promise<void>;
};

/** Any lab, single server or cluster: what the traffic, the invariants and the service helpers take. */
export type AnyLab = Lab<LabNats, LabDatabase>;

/** A lab on a three-node JetStream cluster (startPrivateNatsCluster), the stream at replicas 3. */
export type ClusterLab = Lab<PrivateNatsCluster, LabDatabase>;

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `natsMaxPayload`: the largest message the lab's nats-server takes (see startPrivateNats). `postgres`: how its
 * PostgreSQL runs (startPostgresCluster), e.g. with full-page writes as in production.
 */
export async function openLab(
  options: { natsMaxPayload?: number; postgres?: PostgresClusterOptions } = {},
): Promise<Lab> {
  const natsOptions = options.natsMaxPayload === undefined ? {} : { maxPayload: options.natsMaxPayload };
  const { nats, postgres } = await startLabServers(natsOptions, options.postgres);
  return openLabOn(nats, postgres, { replicas: 1, sharedDatabase: false });
}

/**
 * A lab on a three-node JetStream cluster with the stream at replicas 3, as production runs it. Postgres is the
 * machine's (DATABASE_URL, a schema of the lab's own) when set, else a private cluster: these tests disturb NATS only.
 */
export async function openClusterLab(): Promise<ClusterLab> {
  const shared = process.env.DATABASE_URL;
  const [nats, postgres] = await Promise.all([
    startPrivateNatsCluster(3),
    shared ? Promise.resolve<LabDatabase>({ url: shared, destroy: () => {} }) : startPostgresCluster(),
  ]);
  return openLabOn(nats, postgres, { replicas: 3, sharedDatabase: shared !== undefined });
}

async function openLabOn<N extends LabNats, P extends LabDatabase>(
  nats: N,
  postgres: P,
  options: { replicas: number; sharedDatabase: boolean },
): Promise<Lab<N, P>> {
  const { replicas } = options;
  const tag = `f${randomBytes(4).toString('hex')}`;
  const ns = namespaceFor(tag);
  const schema = `cra_${tag}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cra-fault-data-'));
  const forgetDataDir = onExit(() => rmSync(dataDir, { recursive: true, force: true }));
  const mail = await startMailServer();
  const nc = await connectNats(nats.url, { name: `fault-test-${tag}` });
  const store = await EventStore.open(nc, ns, { replicas });
  const personal = await PersonalData.open(nc, ns, testMasterKey, { replicas });
  const jsm = await jetstreamManager(nc, { timeout: 5_000 });
  const pool = createPool(postgres.url, { max: 4 });
  const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const jwtSecret = `jwt-secret-${randomBytes(24).toString('hex')}`;
  // A container's Postgres has a password too (a local cluster trusts loopback).
  const postgresPassword = decodeURIComponent(new URL(postgres.url).password);
  const secrets = new Set<string>([
    jwtSecret,
    mail.password,
    nats.password,
    ...(postgresPassword ? [postgresPassword] : []),
  ]);

  const env = (extra: Record<string, string> = {}) => ({
    NATS_URL: nats.url,
    DATABASE_URL: postgres.url,
    SMTP_URL: mail.url,
    JWT_SECRET: jwtSecret,
    CRA_MASTER_KEY: TEST_MASTER_KEY,
    PUBLIC_URL,
    MAIL_FROM,
    CRA_NAMESPACE: tag,
    CRA_SCHEMA: schema,
    CRA_DATA_DIR: dataDir,
    CRA_STREAM_REPLICAS: String(replicas),
    LOG_LEVEL: 'info',
    ...extra,
  });

  const publishRun = (asOf: string, rates: Record<string, string>) => appendRun({ store, ns, logger }, asOf, rates);

  const settle = async ({ timeoutMs = 30_000, notifier = true }: { timeoutMs?: number; notifier?: boolean } = {}) => {
    let stableSince = 0;
    let lastSeen = -1;
    let state = 'nothing read yet';
    await waitUntil(
      async () => {
        const last = await store.lastSeq();
        const checkpoint = await readCheckpoint(pool, schema);
        let notifierDone = true;
        state = `log ends at ${last}, projector checkpoint ${checkpoint}`;
        if (notifier) {
          const info = await jsm.consumers.info(ns.stream, 'cra-notifier');
          notifierDone = info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= last;
          state += `, notifier delivered ${info.delivered.stream_seq} acked ${info.ack_floor.stream_seq} pending ${info.num_pending} unacked ${info.num_ack_pending} redelivered ${info.num_redelivered} waiting ${info.num_waiting}`;
        }
        const quiet = checkpoint === last && notifierDone;
        if (!quiet || last !== lastSeen) {
          lastSeen = last;
          stableSince = Date.now();
          return false;
        }
        return Date.now() - stableSince >= 1_000;
      },
      timeoutMs,
      'the projector and the notifier to finish the log',
    ).catch((error: Error) => {
      throw new Error(`${error.message} (${state})`);
    });
    return lastSeen;
  };

  const projectorReaches = async (seq: number, { timeoutMs = 30_000 }: { timeoutMs?: number } = {}) => {
    await waitUntil(
      async () => (await readCheckpoint(pool, schema)) >= seq,
      timeoutMs,
      `the projector to reach ${seq}`,
    );
  };

  const notifierCatchesUp = async ({ timeoutMs = 30_000 }: { timeoutMs?: number } = {}) => {
    const target = await store.lastSeq();
    await projectorReaches(target, { timeoutMs });
    await waitUntil(
      async () => (await jsm.consumers.info(ns.stream, 'cra-notifier')).ack_floor.stream_seq >= target,
      timeoutMs,
      `the notifier to acknowledge the log up to ${target}`,
    );
  };

  return {
    tag,
    ns,
    schema,
    nats,
    postgres,
    mail,
    nc,
    store,
    personal,
    jsm,
    pool,
    logger,
    jwtSecret,
    secrets,
    env,
    publishRun,
    settle,
    projectorReaches,
    notifierCatchesUp,
    linkSecret: linkSecret(jwtSecret),
    send: commandClient(nc, ns),
    close: async () => {
      // The machine's Postgres outlives the lab: leave none of the lab's schemas in it.
      if (options.sharedDatabase) {
        const mine = await pool
          .query<{ name: string }>(
            `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1`,
            [`${schema}%`],
          )
          .catch(() => ({ rows: [] }));
        for (const { name } of mine.rows)
          await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`).catch(() => {});
      }
      await pool.end().catch(() => {});
      await store.destroy().catch(() => {});
      personal.close();
      await personal.keys.destroyBucket().catch(() => {});
      await nc.close().catch(() => {});
      await mail.close();
      await nats.destroy();
      await postgres.destroy();
      forgetDataDir();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
