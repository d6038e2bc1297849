import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { namespaceFor, type Namespace } from '../events/index.ts';
import { EventStore } from '../platform/eventStore/index.ts';
import { createLogger, type Logger } from '../platform/logger.ts';
import { connectNats, type NatsConnection } from '../platform/nats.ts';
import { createPool, quoteIdent, type Pool } from '../platform/postgres.ts';
import { PersonalData } from '../platform/personalData/index.ts';
import { testMasterKey } from './personalKeys.ts';

/** One test file's private world on the shared real servers: its own stream, subjects and schema. */
export type TestWorld = {
  tag: string;
  ns: Namespace;
  schema: string;
  natsUrl: string;
  databaseUrl: string;
  nc: NatsConnection;
  store: EventStore;
  /** Personal data under the test master key, in this world's own key bucket. */
  personal: PersonalData;
  pool: Pool;
  logger: Logger;
  /** Every line the logger wrote, when opened with `captureLog` (else empty): what the services would print. */
  logOutput: () => string;
  close: () => Promise<void>;
};

/**
 * `captureLog`: log everything, at trace level, into memory for the test to read, instead of TEST_LOG_LEVEL to stdout.
 * `tag`: a namespace the test made first (a stream `cra copy-log` wrote), else a new one.
 */
export async function openTestWorld(options: { captureLog?: boolean; tag?: string } = {}): Promise<TestWorld> {
  const tag = options.tag ?? newTag();
  const ns = namespaceFor(tag);
  const schema = `test_${tag}`;
  const natsUrl = inject('natsUrl');
  const databaseUrl = inject('databaseUrl');
  const nc = await connectNats(natsUrl, { name: `test-${tag}` });
  const store = await EventStore.open(nc, ns);
  const personal = await PersonalData.open(nc, ns, testMasterKey);
  // Embedded PGlite mixes up statements of concurrent connections: one connection per test file there.
  const pool = createPool(databaseUrl, { max: inject('embeddedPostgres') ? 1 : 4 });
  const lines: string[] = [];
  const logger = options.captureLog
    ? createLogger({ level: 'trace', destination: { write: (line: string) => void lines.push(line) } })
    : createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return {
    tag,
    ns,
    schema,
    natsUrl,
    databaseUrl,
    nc,
    store,
    personal,
    pool,
    logger,
    logOutput: () => lines.join(''),
    close: async () => {
      await store.destroy();
      personal.close();
      await personal.keys.destroyBucket();
      await nc.close();
      const mine = await pool.query<{ name: string }>(
        `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1`,
        [`${schema}%`],
      );
      for (const { name } of mine.rows)
        await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`).catch(() => {});
      await pool.end();
    },
  };
}

export const meta = (correlationId = 'test') => ({
  occurredAt: new Date().toISOString(),
  correlationId,
  causationId: correlationId,
});
export const uniqueId = () => randomBytes(8).toString('hex');
/** A namespace tag of a test's own (events/subjects.ts namespaceFor). */
export const newTag = () => `t${randomBytes(5).toString('hex')}`;
