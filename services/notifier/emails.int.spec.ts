import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Email, MAX_THRESHOLD_LENGTH, Username } from '../../events/index.ts';
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtpSink.ts';
import { alertDigestEmail, messageIdFor, type DigestTrigger } from './emails.ts';

// What nodemailer puts on the wire for a digest, read back by a real SMTP server: every header line within RFC 5322.
let sink: SmtpSink;
let mailer: Mailer;
beforeAll(async () => {
  sink = await startSmtpSink();
  mailer = createMailer({ smtpUrl: sink.url, from: 'Currency Ratio Alerter <alerts@cra.example>' });
});
afterAll(async () => {
  mailer?.close();
  await sink?.close();
});

/** The longest of what a digest shows: a 32-character username, a 253-character address (the most an SMTP path carries). */
const username = 'u'.repeat(32);
const to = `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(52)}.example`;
const publicUrl = `https://${'cra'.repeat(20)}.example/${'path/'.repeat(30)}`;
/** Longer than any unsubscribe token: a 64-character user id, a dot and 43 characters of HMAC (platform/tokens.ts). */
const unsubscribeToken = 't'.repeat(120);
const longestThreshold = `0.${'0'.repeat(20)}123456789012345678`;

async function sendDigest(reference: string, triggers: DigestTrigger[]) {
  const email = alertDigestEmail({
    username,
    alertsUrl: `${publicUrl}alerts`,
    unsubscribeUrl: `${publicUrl}unsubscribe?token=${unsubscribeToken}`,
    triggers,
    asOf: 'x'.repeat(40),
  });
  const messageId = messageIdFor('alert-digest', reference, 'cra.example');
  await mailer.send({
    to,
    subject: email.subject,
    text: email.text,
    html: email.html,
    headers: email.headers,
    messageId,
  });
  const received = await sink.waitFor((all) => all.some((m) => m.messageId === messageId));
  return { email, received: received.find((m) => m.messageId === messageId)! };
}

const headerLines = (raw: string) => raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');

describe('a digest on the wire', () => {
  it.each([
    ['the longest threshold allowed', longestThreshold],
    ['a 60,000-character threshold (what the log held before thresholds were capped)', `${'0'.repeat(60_000)}1.11`],
  ])('keeps every header line within 998 characters with %s', async (_what, threshold) => {
    expect(longestThreshold).toHaveLength(MAX_THRESHOLD_LENGTH);
    expect(Email.parse(to)).toHaveLength(253);
    expect(Username.parse(username)).toBe(username);
    const trigger: DigestTrigger = {
      pair: 'EUR/USD',
      threshold,
      previousRatio: '0.5',
      currentRatio: '1.5',
      direction: 'up',
    };
    for (const [i, triggers] of [[trigger], Array.from({ length: 50 }, () => trigger)].entries()) {
      const { email, received } = await sendDigest(`${threshold.length}.${i}`, triggers);
      const tooLong = headerLines(received.raw).filter((line) => line.length > 998);
      expect(tooLong.map((line) => `${line.slice(0, 60)}… (${line.length} characters)`)).toEqual([]);
      expect(received.subject).toBe(email.subject);
      expect(received.text).toContain(threshold);
    }
  });
});
