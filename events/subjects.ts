import { createHmac } from 'node:crypto';

// Subjects and the stream name, under a namespace so test files can share one NATS server without overlap.

export type Namespace = {
  /** JetStream stream holding every event, e.g. CRA_EVENTS. */
  stream: string;
  /** Prefix of every event subject, e.g. cra.events. */
  events: string;
  /** Prefix of every command subject, e.g. cra.cmd. */
  commands: string;
};

export const productionNamespace: Namespace = { stream: 'CRA_EVENTS', events: 'cra.events', commands: 'cra.cmd' };

/** A namespace isolated by a short tag (tests, benchmarks): t42 → T42_CRA_EVENTS, t42.cra.events.… */
export function namespaceFor(tag: string | undefined): Namespace {
  if (!tag) return productionNamespace;
  if (!/^[a-z0-9]{1,32}$/.test(tag)) throw new Error(`namespace tag must be [a-z0-9]{1,32}, got "${tag}"`);
  return { stream: `${tag.toUpperCase()}_CRA_EVENTS`, events: `${tag}.cra.events`, commands: `${tag}.cra.cmd` };
}

/** The namespace whose stream this is (CRA_EVENTS, T42_CRA_EVENTS), or undefined when no namespace has it. */
export function namespaceOfStream(stream: string): Namespace | undefined {
  const match = /^(?:([A-Z0-9]{1,32})_)?CRA_EVENTS$/.exec(stream);
  if (!match) return undefined;
  return namespaceFor(match[1]?.toLowerCase());
}

export const subjects = {
  user: (ns: Namespace, userId: string) => `${ns.events}.user.${userId}`,
  alert: (ns: Namespace, alertId: string) => `${ns.events}.alert.${alertId}`,
  rates: (ns: Namespace, provider: string, asOf: string) => `${ns.events}.rates.${provider}.${asOf}`,
  /** The digest of one run for one user: its triggers, then the EmailSent that delivered them. */
  digest: (ns: Namespace, runSeq: number, userId: string) => `${ns.events}.digest.${runSeq}.${userId}`,
  /** One transactional email (verification, password reset), keyed by what it is for (`linkEmailKey`). */
  email: (ns: Namespace, emailKey: string) => `${ns.events}.email.${emailKey}`,
  /** A webhook channel of one person. */
  channel: (ns: Namespace, channelId: string) => `${ns.events}.channel.${channelId}`,
  /** One delivery to a channel: a run's digest (`<runSeq>`) or a test (`t<testId>`), as a digest has per (run, user). */
  delivery: (ns: Namespace, reference: string, channelId: string) => `${ns.events}.delivery.${reference}.${channelId}`,
  all: (ns: Namespace) => `${ns.events}.>`,
  command: (ns: Namespace, name: string) => `${ns.commands}.${name}`,
  /** Core NATS, never stored (outside the stream's subjects): a notifier instance tells the others it took a run. */
  runsTaken: (ns: Namespace) => `${ns.events}-live.runs-taken`,
};

/**
 * The user id is derived from the normalised username, so the log's subject keeps usernames unique; keyed (HMAC with
 * a key derived from CRA_MASTER_KEY, platform/personalData), so a subject does not tell whose it is to someone who
 * guesses usernames.
 */
export function userIdFor(username: string, key: Uint8Array): string {
  return `u${createHmac('sha256', key).update(username.trim().toLowerCase()).digest('hex').slice(0, 32)}`;
}

/**
 * The key of the email that carries one link (its subject's last token, and the reference its events record): what
 * the link is for, whose it is and the nonce of its token, so each link has one email and a user's are found by
 * their nonces.
 */
export function linkEmailKey(purpose: 'verify' | 'reset' | 'email-change', userId: string, tokenNonce: string): string {
  return `${purpose}-${userId}-${tokenNonce}`;
}
