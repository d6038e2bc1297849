import { createHmac } from 'node:crypto';
import { inTransaction, quoteIdent, tablesIn, type Pool } from '../../platform/postgres.ts';
import type { RateLimit } from '../../platform/rateLimits.ts';

/**
 * The web's own state, beside the read models but not among them: `cra replay` swaps the read-model schema and
 * `--verify` compares it, and neither may wipe or see these counters.
 */
export const webStateSchema = (schema: string) => `${schema}_web`;

const PRUNE_EVERY_MS = 60_000;

type WarningLog = { warn(details: object, message: string): void };

export type RateLimitHit = { exceeded: boolean; retryAfterSeconds: number };

/**
 * Rate-limit counters in Postgres, so every web instance shares one budget and a restart forgets nothing. Postgres
 * rather than a JetStream key-value bucket: the web already holds a pool, and one INSERT … ON CONFLICT DO UPDATE …
 * RETURNING counts a key exactly under any concurrency, where a bucket needs a compare-and-swap retry loop and
 * per-key expiry (message TTLs need nats-server 2.11) or a sweeper. A key counts from its first hit for one window.
 */
export class SharedRateLimits {
  private nextPrune = 0;
  private constructor(
    private readonly pool: Pool,
    private readonly table: string,
    private readonly now: () => Date,
    private readonly logger: WarningLog,
    private readonly keySecret: string,
  ) {}

  /** Create the table if it is missing (every instance may, at once) and count from it. */
  static async open(options: {
    pool: Pool;
    schema: string;
    now?: () => Date;
    logger: WarningLog;
    /** Keys are stored as HMACs under it: a username or an address a limit counts is not written down. */
    keySecret: string;
  }): Promise<SharedRateLimits> {
    const schema = webStateSchema(options.schema);
    const table = tablesIn(schema)('rate_limits');
    await inTransaction(options.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cra-migrate:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, hits integer NOT NULL, resets_at timestamptz NOT NULL)`,
      );
    });
    return new SharedRateLimits(
      options.pool,
      table,
      options.now ?? (() => new Date()),
      options.logger,
      options.keySecret,
    );
  }

  /** Count one use of `key` against `limit`; a window that has ended starts over. */
  async hit(key: string, limit: RateLimit): Promise<RateLimitHit> {
    const now = this.now();
    if (now.getTime() >= this.nextPrune) this.prune(now);
    const r = await this.pool.query<{ hits: number; resets_at: Date }>(
      `INSERT INTO ${this.table} AS r (key, hits, resets_at) VALUES ($1, 1, $3)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN r.resets_at <= $2 THEN 1 ELSE r.hits + 1 END,
         resets_at = CASE WHEN r.resets_at <= $2 THEN excluded.resets_at ELSE r.resets_at END
       RETURNING hits, resets_at`,
      [
        createHmac('sha256', this.keySecret).update(`rate-limit:${key}`).digest('base64url'),
        now,
        new Date(now.getTime() + limit.timeWindowMs),
      ],
    );
    const row = r.rows[0]!;
    return {
      exceeded: row.hits > limit.max,
      retryAfterSeconds: Math.max(1, Math.ceil((row.resets_at.getTime() - now.getTime()) / 1000)),
    };
  }

  /** Forget windows that have ended, at most once a minute per instance, off the request's path. */
  private prune(now: Date) {
    this.nextPrune = now.getTime() + PRUNE_EVERY_MS;
    this.pool
      .query(`DELETE FROM ${this.table} WHERE resets_at <= $1`, [now])
      .catch((error: unknown) => this.logger.warn({ err: error }, 'pruning rate limits failed'));
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The shared rate-limit counters; routes use them through `limiter` (shared/limiter.ts). */
    rateLimits: SharedRateLimits;
  }
}
