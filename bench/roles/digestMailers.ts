// email-digest, both sides, each in its own process: the notifier's run (notifyRun, as its consumer calls it on a
// RatesFetched), and raw nodemailer sends of the same digests.
import nodemailer from 'nodemailer';
import { tablesIn } from '../../platform/postgres.ts';
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { linkSecret, unsubscribeToken } from '../../platform/tokens.ts';
import type { CrossedAlert } from '../../services/notifier/crossing.ts';
import { notifyRun, type RunOutcome } from '../../services/notifier/digests.ts';
import { alertDigestEmail, mailDomainOf, messageIdFor } from '../../services/notifier/emails.ts';
import { findCrossedAlerts } from '../../services/notifier/matchCrossedAlerts.ts';
import { closedLoop, connect, type Connected, type Place } from '../lib/world.ts';

export const MAIL_FROM = 'CRA <alerts@cra.bench>';
export const PUBLIC_URL = 'http://localhost:7007';
/** Digests the notifier works on at once: its default (notifyRun's `concurrency`). */
export const NOTIFIER_CONCURRENCY = 8;

let connected: Connected | undefined;
let mailer: Mailer | undefined;
let secret: Buffer | undefined;

export async function start(place: Place, smtpUrl: string, rootSecret: string): Promise<void> {
  connected = await connect(place, 'bench-notifier');
  mailer = createMailer({ smtpUrl, from: MAIL_FROM });
  secret = linkSecret(rootSecret);
}

/** One run of the notifier as its consumer runs it on RatesFetched: find, record triggers, send one digest per user, record EmailSent. */
export async function notify(
  place: Place,
  run: { seq: number; asOf: string },
): Promise<{ ms: number; outcome: RunOutcome }> {
  const { store, ns, pool, personal } = connected!;
  const started = performance.now();
  const outcome = await notifyRun(
    {
      store,
      personal,
      ns,
      pool,
      schema: place.schema,
      mailer: mailer!,
      linkSecret: secret!,
      publicUrl: PUBLIC_URL,
      mailDomain: mailDomainOf(MAIL_FROM),
      now: () => new Date(),
      instanceId: 'bench-notifier',
      claimMs: 120_000,
    },
    run,
  );
  return { ms: performance.now() - started, outcome };
}

type Message = {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  messageId: string;
};
let messages: Message[] = [];

/** The very digests of the run, rendered beforehand with the notifier's own template: the timed part only sends. */
export async function prepare(place: Place, run: { seq: number; asOf: string }): Promise<number> {
  const { pool, personal } = connected!;
  const t = tablesIn(place.schema);
  const crossed = await findCrossedAlerts(pool, t, run.seq);
  const byUser = new Map<string, CrossedAlert[]>();
  for (const c of crossed) byUser.set(c.userId, [...(byUser.get(c.userId) ?? []), c]);
  const users = await pool.query<{ user_id: string; username: string; email: string }>(
    `SELECT user_id, username, email FROM ${t('users')} WHERE user_id = ANY($1)`,
    [[...byUser.keys()]],
  );
  // Opened here, before the timed part: the baseline is the sending alone.
  const opened = await Promise.all(
    users.rows.map(async (u) => ({
      ...u,
      username: await personal.reveal(u.user_id, 'username', u.username),
      email: await personal.reveal(u.user_id, 'email', u.email),
    })),
  );
  messages = opened.map((u) => {
    const email = alertDigestEmail({
      username: u.username,
      alertsUrl: `${PUBLIC_URL}/alerts`,
      unsubscribeUrl: `${PUBLIC_URL}/unsubscribe?token=${encodeURIComponent(unsubscribeToken(secret!, u.user_id))}`,
      asOf: run.asOf,
      triggers: byUser.get(u.user_id)!.map((a) => ({
        pair: `${a.base}/${a.quote}`,
        threshold: a.threshold,
        previousRatio: a.previousRatio,
        currentRatio: a.currentRatio,
        direction: a.direction,
      })),
    });
    return {
      to: u.email,
      ...email,
      messageId: messageIdFor('alert-digest', `${run.seq}.${u.user_id}`, mailDomainOf(MAIL_FROM)),
    };
  });
  return messages.length;
}

/** Raw nodemailer: the transport options of platform/mailer.ts, the notifier's concurrency, the prepared messages. */
export async function sendPrepared(smtpUrl: string, limit?: number): Promise<{ ms: number; sent: number }> {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: 4,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  const batch = messages.slice(0, limit ?? messages.length);
  try {
    const ms = await closedLoop(NOTIFIER_CONCURRENCY, batch.length, async (i) => {
      const m = batch[i]!;
      await transport.sendMail({
        from: MAIL_FROM,
        to: m.to,
        subject: m.subject,
        text: m.text,
        html: m.html,
        messageId: m.messageId,
        headers: m.headers,
      });
    });
    return { ms, sent: batch.length };
  } finally {
    transport.close();
  }
}

export async function stop(): Promise<void> {
  mailer?.close();
  await connected?.close();
}
