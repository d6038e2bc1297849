import { isIP } from 'node:net';
import { z } from 'zod';
import { parseMasterKey } from './personalData/masterKey.ts';
import { Cron } from 'croner';
import { RatesProvider } from '../events/index.ts';
import { parseRateLimit, rateLimitDefaults } from './rateLimits.ts';

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.join(' or ')}`,
  );

const cronExpression = z.string().refine((v) => {
  try {
    new Cron(v, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}, 'must be a cron expression such as "0 17 * * *"');

/**
 * Whom the web believes about the client's address (X-Forwarded-For), which per-address rate limits key on:
 * nobody (unset: a client could otherwise pick its own address), `true` (every hop: only behind a proxy that
 * every request must pass), a number of proxy hops, or the proxies' addresses and CIDR ranges, comma-separated.
 */
const addressOrRange = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:.]*)(\/\d{1,3})?$/i;
const trustProxy = z.string().transform((v, ctx): boolean | number | string[] => {
  const value = v.trim().toLowerCase();
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  const list = value.split(',').map((a) => a.trim());
  if (list.every((a) => addressOrRange.test(a) || ['loopback', 'linklocal', 'uniquelocal'].includes(a))) return list;
  ctx.addIssue({
    code: 'custom',
    message: 'must be true, false, a number of hops, or addresses/CIDR ranges separated by commas',
  });
  return z.NEVER;
});

/** `true` or `false`, unset meaning false. */
const flag = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .default('false')
  .transform((v) => v === 'true');

/** A rate limit such as `20/1m`: a count per window of seconds, minutes or hours. */
const rateLimit = z.string().transform((v, ctx) => {
  const limit = parseRateLimit(v);
  if (limit) return limit;
  ctx.addIssue({ code: 'custom', message: 'must be a count per window, such as 20/1m, 100/1h or 5/30s' });
  return z.NEVER;
});

/** The whole configuration, from the environment only (docs/design.md §6). */
export const ConfigSchema = z.object({
  PORT: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be 1–65535')
    .max(65535, 'must be 1–65535')
    .default(7007),
  // Loopback unless widened on purpose: a developer's start is not reachable from the network.
  HOST: z
    .string()
    .refine(
      (v) => isIP(v) !== 0 || /^[a-z0-9]([a-z0-9.-]{0,252})$/i.test(v),
      'must be an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0',
    )
    .default('127.0.0.1'),
  // What a bearer token may hold (RFC 6750's b64token), so that it travels in an Authorization header as it is.
  METRICS_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters')
    .regex(/^[A-Za-z0-9\-._~+/]+=*$/, 'must be letters, digits and - . _ ~ + / only, e.g. from `openssl rand -hex 32`')
    .optional(),
  PUBLIC_URL: url(['http:', 'https:'])
    .default('http://localhost:7007')
    .transform((v) => v.replace(/\/+$/, '')),
  NATS_URL: z
    .string()
    .refine(
      (v) =>
        v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$/.test(u.trim()) || /^[\w.-]+:\d+$/.test(u.trim())),
      'must be nats://host:port (comma-separated for several)',
    )
    .optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('CRA <alerts@localhost>'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // Wraps every person's key (platform/personalData): 32 random bytes, hex or base64.
  CRA_MASTER_KEY: z
    .string()
    .refine((v) => typeof parseMasterKey(v) !== 'string', { error: (i) => String(parseMasterKey(String(i.input))) })
    .optional(),
  RATES_PROVIDER: RatesProvider.default('frankfurter'),
  RATES_URL: url(['http:', 'https:']).optional(),
  RATES_API_KEY: z.string().min(1).optional(),
  RATES_SCHEDULE: cronExpression.default('0 17 * * *'),
  CRA_DATA_DIR: z.string().min(1).default('./.cra'),
  // Webhook channels reach public https endpoints only, unless a developer or a test widens it (docs/design.md §6).
  WEBHOOK_ALLOW_HTTP: flag,
  WEBHOOK_ALLOW_PRIVATE: flag,
  TRUST_PROXY: trustProxy.default(false),
  RATE_LIMIT_LOGIN_PER_CLIENT: rateLimit.default(rateLimitDefaults.loginPerClient),
  RATE_LIMIT_LOGIN_PER_USERNAME: rateLimit.default(rateLimitDefaults.loginPerUsername),
  RATE_LIMIT_REGISTER_PER_CLIENT: rateLimit.default(rateLimitDefaults.registerPerClient),
  RATE_LIMIT_EMAIL_LINKS_PER_CLIENT: rateLimit.default(rateLimitDefaults.emailLinksPerClient),
  RATE_LIMIT_TOKEN_LINKS_PER_CLIENT: rateLimit.default(rateLimitDefaults.tokenLinksPerClient),
  RATE_LIMIT_LINK_EMAILS_PER_ACCOUNT: rateLimit.default(rateLimitDefaults.linkEmailsPerAccount),
  RATE_LIMIT_EMAILS_PER_ADDRESS: rateLimit.default(rateLimitDefaults.emailsPerAddress),
  RATE_LIMIT_EMAIL_CHANGES_PER_ACCOUNT: rateLimit.default(rateLimitDefaults.emailChangesPerAccount),
  RATE_LIMIT_EXPORTS_PER_ACCOUNT: rateLimit.default(rateLimitDefaults.exportsPerAccount),
  // Isolation knobs for tests, benchmarks and shared clusters: stream/subject namespace and read-model schema.
  CRA_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]{1,32}$/, 'must be 1–32 lowercase letters or digits')
    .optional(),
  CRA_STREAM_REPLICAS: z.coerce
    .number()
    .int('must be a whole number')
    .min(1, 'must be 1–5')
    .max(5, 'must be 1–5')
    .default(1),
  CRA_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lowercase SQL identifier')
    .default('cra'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Only `production` means anything here: it turns every development aid off (the dev mailbox).
  NODE_ENV: z.string().optional(),
});

export type Config = z.infer<typeof ConfigSchema>;

/** A bad environment variable; its message is the one line the process prints before it exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means unset, as shells and Nomad templates often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (parsed.success) {
    // Generated into the data dir for a developer's start; a production without it could not read its own log.
    if (parsed.data.NODE_ENV === 'production' && !parsed.data.CRA_MASTER_KEY)
      throw new ConfigError(
        'Invalid environment variable CRA_MASTER_KEY: required in production (openssl rand -hex 32)',
      );
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  const name = String(issue.path[0] ?? 'environment');
  throw new ConfigError(`Invalid environment variable ${name}: ${issue.message}`);
}
