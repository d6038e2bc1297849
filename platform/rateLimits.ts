/** A budget: at most `max` within a window of `timeWindowMs`, counted from the first use. */
export type RateLimit = { max: number; timeWindowMs: number };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const units: Record<string, number> = { s: 1_000, m: MINUTE, h: HOUR };

/** The defaults of every RATE_LIMIT_* setting (README, Configuration). */
export const rateLimitDefaults = {
  loginPerClient: { max: 20, timeWindowMs: MINUTE },
  loginPerUsername: { max: 5, timeWindowMs: MINUTE },
  // A class behind one NAT address registers together: room for several classes an hour.
  registerPerClient: { max: 100, timeWindowMs: HOUR },
  emailLinksPerClient: { max: 5, timeWindowMs: HOUR },
  tokenLinksPerClient: { max: 60, timeWindowMs: MINUTE },
  linkEmailsPerAccount: { max: 5, timeWindowMs: HOUR },
  // Registrations and reset requests naming one email address, from any client: the address is flooded no faster.
  emailsPerAddress: { max: 5, timeWindowMs: HOUR },
  // Tries of the change-of-address form per signed-in account: each checks the password, so a stolen session cannot
  // guess it at speed; room for typos.
  emailChangesPerAccount: { max: 10, timeWindowMs: HOUR },
  // Downloads of one's data per account: each reads every subject of the person's from the log.
  exportsPerAccount: { max: 10, timeWindowMs: HOUR },
} as const satisfies Record<string, RateLimit>;

/** A limit as settings write it: a count, a slash and a window, such as `20/1m`, `100/1h` or `5/30s`. */
export function parseRateLimit(text: string): RateLimit | undefined {
  const match = /^\s*(\d{1,6})\s*\/\s*(\d{1,4})?\s*([smh])\s*$/.exec(text);
  if (!match) return undefined;
  const max = Number(match[1]);
  const timeWindowMs = Number(match[2] ?? 1) * units[match[3]!]!;
  return max >= 1 && timeWindowMs >= 1_000 ? { max, timeWindowMs } : undefined;
}
