import { randomBytes, randomUUID } from 'node:crypto';
import type { CommandName, CommandPayload, CommandReply } from '../../../events/index.ts';
import type { SendCommand } from '../../../platform/commandClient.ts';

import { PUBLIC_URL, sleep, type AnyLab } from './lab.ts';
import { testUserId } from '../../personalKeys.ts';

/** One command as a client sent it, with every reply it got (a retry keeps the command id). */
export type CommandRecord = {
  name: CommandName;
  payload: unknown;
  commandId: string;
  replies: CommandReply[];
  /** When each attempt was sent (epoch ms), and how long its answer took. */
  sentAt: number[];
  durationsMs: number[];
};

export const isAcked = (r: CommandRecord) => r.replies.some((reply) => reply.ok);
const unanswered = (r: CommandRecord) =>
  r.replies.every((reply) => !reply.ok && (reply.error === 'UNAVAILABLE' || reply.error === 'UNCONFIRMED'));

/** Sends commands and remembers what each one was answered, so a test can hold the log to every acknowledgement. */
export class CommandLedger {
  readonly records: CommandRecord[] = [];
  constructor(private readonly sendCommand: SendCommand) {}

  async send<N extends CommandName>(
    name: N,
    payload: CommandPayload<N>,
    commandId: string = randomUUID(),
  ): Promise<CommandReply> {
    const record: CommandRecord = { name, payload, commandId, replies: [], sentAt: [], durationsMs: [] };
    this.records.push(record);
    return this.attempt(record);
  }

  private async attempt(record: CommandRecord): Promise<CommandReply> {
    const started = Date.now();
    const reply = await this.sendCommand(record.name, record.payload as never, {
      commandId: record.commandId,
      timeoutMs: 3_000,
    });
    record.replies.push(reply);
    record.sentAt.push(started);
    record.durationsMs.push(Date.now() - started);
    return reply;
  }

  acked(): CommandRecord[] {
    return this.records.filter(isAcked);
  }

  /** What a patient client does after an outage: send every command that got no answer again, same id, until answered. */
  async resendUnanswered(timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let resent = 0;
    for (const record of this.records.filter(unanswered)) {
      while (unanswered(record)) {
        if (Date.now() > deadline)
          throw new Error(`command ${record.name} ${record.commandId} still unanswered after the outage`);
        await this.attempt(record);
        resent++;
      }
    }
    return resent;
  }
}

export type TestUser = { username: string; userId: string; email: string; password: string };

/** A fresh user (not yet registered); its password goes into the lab's secrets. */
export function newUser(lab: AnyLab, prefix = 'user'): TestUser {
  const username = `${prefix}-${randomBytes(4).toString('hex')}`;
  const password = `pw ${randomBytes(9).toString('base64url')} secret`;
  lab.secrets.add(password);
  return { username, userId: testUserId(username), email: `${username}@example.test`, password };
}

/** The link an email carries (as the user clicks it): path and query, the token decoded. */
export function linkIn(text: string, path: '/verify' | '/password/reset'): string {
  const match = new RegExp(`${PUBLIC_URL.replaceAll('.', '\\.')}${path}\\?token=([^\\s"<>]+)`).exec(text);
  if (!match) throw new Error(`no ${path} link in: ${text}`);
  return decodeURIComponent(match[1]!);
}

/** Register users the way people do: request, receive the email, follow its link. Needs a command service and a notifier. */
export async function registerUsers(
  lab: AnyLab,
  ledger: CommandLedger,
  count: number,
  prefix = 'user',
): Promise<TestUser[]> {
  const users = Array.from({ length: count }, () => newUser(lab, prefix));
  for (const u of users) {
    const reply = await ledger.send('RequestRegistration', {
      username: u.username,
      email: u.email,
      password: u.password,
    });
    if (!reply.ok) throw new Error(`registration of ${u.username} refused: ${reply.error} ${reply.message}`);
  }
  await lab.mail.waitFor(
    (m) => users.every((u) => m.some((e) => e.to.includes(u.email))),
    30_000,
    'verification emails',
  );
  for (const u of users) {
    const email = lab.mail.accepted.find((e) => e.to.includes(u.email))!;
    const token = linkIn(email.text, '/verify');
    lab.secrets.add(token);
    const reply = await ledger.send('VerifyRegistration', { token });
    if (!reply.ok) throw new Error(`verification of ${u.username} refused: ${reply.error} ${reply.message}`);
  }
  return users;
}

/** Pairs and thresholds chosen so that the two alternating runs below cross every alert, each run. */
const PAIRS = [
  { base: 'EUR', quote: 'USD', low: 1.0, high: 1.2 },
  { base: 'USD', quote: 'JPY', low: 140, high: 153 },
  { base: 'GBP', quote: 'USD', low: 1.2, high: 1.5 },
] as const;
export const RUN_RATES = [
  { USD: '0.98', JPY: '150', GBP: '0.82' }, // EUR/USD 0.98, USD/JPY 153.06…, GBP/USD 1.195…
  { USD: '1.22', JPY: '170', GBP: '0.80' }, // EUR/USD 1.22, USD/JPY 139.34…, GBP/USD 1.525
] as const;

export function randomAlert(userId: string) {
  const pair = PAIRS[Math.floor(Math.random() * PAIRS.length)]!;
  const threshold = (pair.low + Math.random() * (pair.high - pair.low)).toFixed(4);
  return { userId, alertId: `a${randomBytes(8).toString('hex')}`, base: pair.base, quote: pair.quote, threshold };
}

/**
 * Command traffic in the background: alerts set and deleted by registered users, logins, and now and then a new
 * registration. It keeps going through outages (the ledger records what was answered) until stopped.
 */
export function startTraffic(
  lab: AnyLab,
  ledger: CommandLedger,
  users: readonly TestUser[],
  options: { workers?: number; pauseMs?: number; registrations?: boolean } = {},
) {
  let running = true;
  let sent = 0;
  const alertsOf = new Map<string, string[]>();
  const newUsers: TestUser[] = [];
  const one = async () => {
    const user = users[Math.floor(Math.random() * users.length)]!;
    const roll = Math.random();
    if (roll < 0.55) {
      const alert = randomAlert(user.userId);
      const reply = await ledger.send('SetAlert', alert);
      if (reply.ok) alertsOf.set(user.userId, [...(alertsOf.get(user.userId) ?? []), alert.alertId]);
    } else if (roll < 0.75) {
      const mine = alertsOf.get(user.userId) ?? [];
      const alertId = mine.shift();
      if (alertId) await ledger.send('DeleteAlert', { userId: user.userId, alertId });
    } else if (roll < 0.9 || !options.registrations) {
      await ledger.send('LogIn', { username: user.username, password: user.password });
    } else {
      const fresh = newUser(lab, 'late');
      newUsers.push(fresh);
      await ledger.send('RequestRegistration', {
        username: fresh.username,
        email: fresh.email,
        password: fresh.password,
      });
    }
    sent++;
  };
  const workers = Array.from({ length: options.workers ?? 2 }, async () => {
    while (running) {
      await one();
      await sleep(options.pauseMs ?? 40);
    }
  });
  return {
    sent: () => sent,
    newUsers,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}
