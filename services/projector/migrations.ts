import type { PoolClient } from '../../platform/postgres.ts';
import { quoteIdent, tablesIn, type TableNamer } from '../../platform/postgres.ts';

type Migration = {
  id: number;
  /** Tables with their keys and constraints: what applying events needs and relies on. */
  sql: (t: TableNamer) => string;
  /**
   * Secondary indexes, which only readers use. A live schema gets them with its tables; a replay into a new
   * schema builds them once its tables are full (one sort per index, instead of keeping each up to date row by row).
   */
  indexes: (t: TableNamer) => string[];
};

/**
 * The read-model schema, as ordered migrations. Each runs once per schema, recorded in
 * schema_migrations. Timestamps come from event envelopes (never now()) so a rebuild is identical.
 */
const migrations: Migration[] = [
  {
    id: 1,
    sql: (t) => `
      CREATE TABLE ${t('checkpoints')} (name text PRIMARY KEY, seq bigint NOT NULL);
      CREATE TABLE ${t('parked_events')} (
        seq bigint PRIMARY KEY, subject text NOT NULL, reason text NOT NULL,
        headers jsonb NOT NULL, body text NOT NULL);
      CREATE TABLE ${t('users')} (
        user_id text PRIMARY KEY, username text NOT NULL UNIQUE, email text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'registered', 'expired')),
        pending_expires_at timestamptz, registered_at timestamptz,
        alert_emails_paused boolean NOT NULL DEFAULT false, updated_seq bigint NOT NULL);
      CREATE TABLE ${t('sessions')} (
        session_id uuid PRIMARY KEY, user_id text NOT NULL, opened_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL, closed_at timestamptz);
      CREATE TABLE ${t('alerts')} (
        alert_id text PRIMARY KEY, user_id text NOT NULL, base text NOT NULL, quote text NOT NULL,
        threshold numeric NOT NULL, threshold_text text NOT NULL,
        set_seq bigint NOT NULL, set_at timestamptz NOT NULL,
        deleted_seq bigint, deleted_at timestamptz);
      CREATE TABLE ${t('rate_runs')} (
        run_seq bigint PRIMARY KEY, provider text NOT NULL, base text NOT NULL, as_of text NOT NULL,
        fetched_at timestamptz NOT NULL, UNIQUE (provider, as_of));
      CREATE TABLE ${t('rates')} (
        run_seq bigint NOT NULL, currency text NOT NULL, rate numeric NOT NULL,
        PRIMARY KEY (run_seq, currency));
      CREATE TABLE ${t('alert_triggers')} (
        alert_id text NOT NULL, run_seq bigint NOT NULL, user_id text NOT NULL,
        previous_ratio text NOT NULL, current_ratio text NOT NULL, direction text NOT NULL,
        triggered_at timestamptz NOT NULL, PRIMARY KEY (alert_id, run_seq));
      CREATE TABLE ${t('emails_sent')} (
        message_id text PRIMARY KEY, user_id text NOT NULL, kind text NOT NULL,
        reference text NOT NULL, sent_at timestamptz NOT NULL, seq bigint NOT NULL);
      CREATE TABLE ${t('activity')} (
        seq bigint NOT NULL, position int NOT NULL, user_id text NOT NULL, type text NOT NULL,
        summary text NOT NULL, occurred_at timestamptz NOT NULL, PRIMARY KEY (seq, position));
    `,
    indexes: (t) => [
      `CREATE INDEX ON ${t('users')} (lower(email))`,
      `CREATE INDEX ON ${t('sessions')} (user_id)`,
      `CREATE INDEX ON ${t('alerts')} (user_id) WHERE deleted_seq IS NULL`,
      // The notifier finds crossed alerts as a threshold range per pair: this index serves it.
      `CREATE INDEX ON ${t('alerts')} (base, quote, threshold)`,
      `CREATE INDEX ON ${t('rates')} (currency, run_seq)`,
      `CREATE INDEX ON ${t('alert_triggers')} (user_id)`,
      `CREATE INDEX ON ${t('activity')} (user_id, seq)`,
    ],
  },
  {
    // Personal fields are sealed (platform/personalData): an address is looked up by its keyed hash.
    id: 2,
    sql: (t) => `ALTER TABLE ${t('users')} ADD COLUMN email_lookup text;`,
    indexes: (t) => [`CREATE INDEX ON ${t('users')} (email_lookup)`],
  },
  {
    // Alert kinds (docs/design.md §4b). Rows of alerts set before them read as they always behaved: a threshold, either
    // way, every time, active and armed since they were set; a replay of the same log writes the very same values.
    id: 3,
    sql: (t) => `
      ALTER TABLE ${t('alerts')}
        ALTER COLUMN threshold DROP NOT NULL, ALTER COLUMN threshold_text DROP NOT NULL,
        ADD COLUMN kind text NOT NULL DEFAULT 'threshold' CHECK (kind IN ('threshold', 'change')),
        ADD COLUMN percent numeric, ADD COLUMN percent_text text, ADD COLUMN runs int,
        ADD COLUMN direction text NOT NULL DEFAULT 'either' CHECK (direction IN ('either', 'up', 'down')),
        ADD COLUMN repeat text NOT NULL DEFAULT 'every' CHECK (repeat IN ('every', 'once')),
        ADD COLUMN expires text,
        ADD COLUMN active_seq bigint, ADD COLUMN paused_seq bigint, ADD COLUMN armed_seq bigint;
      UPDATE ${t('alerts')} SET active_seq = set_seq, armed_seq = set_seq;
      ALTER TABLE ${t('alerts')} ALTER COLUMN active_seq SET NOT NULL, ALTER COLUMN armed_seq SET NOT NULL;
    `,
    // The notifier finds change alerts as a percent range per pair and number of runs.
    indexes: (t) => [`CREATE INDEX ON ${t('alerts')} (base, quote, runs, percent) WHERE kind = 'change'`],
  },
  {
    // An alert's detail page finds the digest that emailed each trigger by its user and reference; an erasure, the rows.
    id: 4,
    sql: () => '',
    indexes: (t) => [`CREATE INDEX ON ${t('emails_sent')} (user_id, reference)`],
  },
  {
    // Webhook channels (events/channel.ts): the URL and the signing secret sealed, as the log holds them.
    id: 5,
    sql: (t) => `
      CREATE TABLE ${t('channels')} (
        channel_id text PRIMARY KEY, user_id text NOT NULL, url text NOT NULL,
        format text NOT NULL CHECK (format IN ('json', 'slack', 'discord')), secret text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'paused', 'deleted')), paused_for text,
        added_seq bigint NOT NULL, added_at timestamptz NOT NULL, updated_seq bigint NOT NULL,
        last_reference text, last_outcome text, last_status int, last_detail text, last_attempt_at timestamptz);
    `,
    indexes: (t) => [`CREATE INDEX ON ${t('channels')} (user_id)`],
  },
  {
    // An address the mail server refused for good (EmailUndeliverable), sealed as the log holds it: alert emails are
    // paused while it is the account's address.
    id: 6,
    sql: (t) =>
      `ALTER TABLE ${t('users')} ADD COLUMN refused_email text, ADD COLUMN refused_detail text, ADD COLUMN refused_at timestamptz;`,
    indexes: () => [],
  },
];

/**
 * Bring `schema` up to date; safe to run on every start and by several instances at once. With `deferIndexes`
 * (a replay into a schema nobody reads yet) the secondary indexes are left to `createDeferredIndexes`.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  options: { deferIndexes?: boolean } = {},
): Promise<void> {
  const t = tablesIn(schema);
  await client.query('BEGIN');
  try {
    // One migrator at a time per schema, across processes.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cra-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${t('schema_migrations')} (id int PRIMARY KEY)`);
    const done = new Set(
      (await client.query<{ id: number }>(`SELECT id FROM ${t('schema_migrations')}`)).rows.map((r) => r.id),
    );
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      const sql = m.sql(t);
      if (sql) await client.query(sql);
      if (!options.deferIndexes) for (const index of m.indexes(t)) await client.query(index);
      await client.query(`INSERT INTO ${t('schema_migrations')} (id) VALUES ($1)`, [m.id]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** The secondary indexes a schema migrated with `deferIndexes` still lacks, for `createDeferredIndexes`. */
export function deferredIndexes(schema: string): string[] {
  const t = tablesIn(schema);
  return migrations.flatMap((m) => m.indexes(t));
}

/** Tables a rebuild must reproduce exactly (everything but bookkeeping). */
export const readModelTables = [
  'users',
  'sessions',
  'alerts',
  'rate_runs',
  'rates',
  'alert_triggers',
  'emails_sent',
  'activity',
  'channels',
  'parked_events',
  'checkpoints',
] as const;
