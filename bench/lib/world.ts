import { randomBytes } from 'node:crypto';
import { namespaceFor, type Namespace } from '../../events/index.ts';
import { PersonalData } from '../../platform/personalData/index.ts';
import { testMasterKey } from '../../test/personalKeys.ts';
import { EventStore } from '../../platform/eventStore/index.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { connectNats, type NatsConnection } from '../../platform/nats.ts';
import { createPool, quoteIdent, type Pool } from '../../platform/postgres.ts';

/** Where one benchmark lives: its own stream and subjects (namespace tag) and its own read-model schema. */
export type Place = { natsUrl: string; databaseUrl: string; tag: string; schema: string };

/** A fresh place for one benchmark: tag b<name><random> isolates the stream and subjects, schema bench_<tag> the read models. */
export function newPlace(servers: { natsUrl: string; databaseUrl: string }, name: string): Place {
  const tag = `b${name}${randomBytes(3).toString('hex')}`;
  return { natsUrl: servers.natsUrl, databaseUrl: servers.databaseUrl, tag, schema: `bench_${tag}` };
}

/** Services log at this level in every benchmark and baseline alike (LOG_LEVEL, default warn: errors still show). */
export const benchLogger = (): Logger => createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });

export type Connected = {
  ns: Namespace;
  nc: NatsConnection;
  store: EventStore;
  /** Personal data under the tests' master key (test/personalKeys.ts), in the benchmark's own key bucket. */
  personal: PersonalData;
  pool: Pool;
  close: () => Promise<void>;
};

/** The connections a service opens, with the platform's own helpers (the same defaults as `cra start`). */
export async function connect(place: Place, name: string, options: { pool?: boolean } = {}): Promise<Connected> {
  const ns = namespaceFor(place.tag);
  const nc = await connectNats(place.natsUrl, { name });
  const store = await EventStore.open(nc, ns);
  const personal = await PersonalData.open(nc, ns, testMasterKey);
  const pool = createPool(place.databaseUrl);
  return {
    ns,
    nc,
    store,
    personal,
    pool,
    close: async () => {
      personal.close();
      await nc.drain().catch(() => nc.close());
      if (options.pool !== false) await pool.end();
    },
  };
}

/** Delete the benchmark's stream and every schema it made. */
export async function cleanUp(place: Place): Promise<void> {
  if (process.env.BENCH_KEEP === '1') {
    process.stderr.write(
      `[bench] BENCH_KEEP=1: keeping stream ${namespaceFor(place.tag).stream} and schema ${place.schema}\n`,
    );
    return;
  }
  const c = await connect(place, `bench-cleanup-${place.tag}`);
  try {
    await c.store.destroy();
    await c.personal.keys.destroyBucket();
    const mine = await c.pool.query<{ name: string }>(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1`,
      [`${place.schema}%`],
    );
    for (const { name } of mine.rows) await c.pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
  } finally {
    await c.close();
  }
}

/** A deterministic PRNG (mulberry32), so every run builds the same data. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A positive number as plain decimal digits (no exponent) with `significant` significant digits. */
export function plainDecimal(value: number, significant: number): string {
  const places = Math.max(0, significant - 1 - Math.floor(Math.log10(value)));
  const text = value.toFixed(Math.min(places, 20));
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/** Run `task` from `concurrency` callers in a closed loop until `total` tasks have started; returns ms from first start to last finish. */
export async function closedLoop(
  concurrency: number,
  total: number,
  task: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) await task(i);
    }),
  );
  return performance.now() - start;
}

/** Currencies with a plausible EUR rate each (ECB-like, 6 significant digits). */
export const CURRENCIES: Record<string, number> = {
  EUR: 1,
  USD: 1.0825,
  JPY: 162.35,
  GBP: 0.8512,
  CHF: 0.9521,
  AUD: 1.6483,
  CAD: 1.4795,
  CNY: 7.8321,
  SEK: 11.214,
  NOK: 11.673,
  DKK: 7.4588,
  PLN: 4.3187,
  CZK: 25.112,
  HUF: 388.45,
  RON: 4.9752,
  TRY: 35.127,
  INR: 90.412,
  BRL: 5.9873,
  MXN: 21.564,
  ZAR: 19.874,
  KRW: 1487.3,
  SGD: 1.4521,
  HKD: 8.4417,
  NZD: 1.7968,
  THB: 37.512,
  IDR: 17012.4,
  ILS: 4.0211,
  PHP: 62.145,
  MYR: 4.8412,
  ISK: 149.7,
};
