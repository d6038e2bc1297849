import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
export type QueryResult<R extends pg.QueryResultRow> = pg.QueryResult<R>;

// NUMERIC stays a string (exact decimals); BIGINT sequences fit a JS number for any realistic log.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Postgres schema names are identifiers: quote them once, here. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe SQL identifier "${name}"`);
  return `"${name}"`;
}

/**
 * Read models live in one schema per deployment, per test file or per rebuild. SQL names its tables
 * through this (`${t('users')}` → "cra"."users") rather than search_path, which embedded PGlite shares
 * across all connections.
 */
export type TableNamer = (table: string) => string;
export function tablesIn(schema: string): TableNamer {
  const s = quoteIdent(schema);
  return (table) => `${s}.${quoteIdent(table)}`;
}

/** The one Postgres pool helper. */
export function createPool(url: string, options: { max?: number } = {}): Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // Nor one that is checked out between two queries (a projector's batch, a transaction) when Postgres stops:
  // the pool listens only to idle clients, and an 'error' nobody hears ends the process. Its next query fails
  // instead ("not queryable"), the caller retries, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Run `work` in one transaction; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
