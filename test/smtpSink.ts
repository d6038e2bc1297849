import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type ReceivedEmail = {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Map<string, unknown>;
  raw: string;
};

/** One RCPT TO the sink answered: the address and its reply code (250: taken), and when. */
export type RecipientAttempt = { address: string; code: number; at: number };

/**
 * A real SMTP server on loopback that keeps what it receives; `refuse(true)` turns every connection away (421), and
 * `answerRecipient` gives one address the replies its RCPT TO gets, in turn (the last one for good).
 */
export async function startSmtpSink() {
  const received: ReceivedEmail[] = [];
  const recipients: RecipientAttempt[] = [];
  const replies = new Map<string, number[]>();
  let refusing = false;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      callback(refusing ? Object.assign(new Error('service unavailable'), { responseCode: 421 }) : undefined);
    },
    onRcptTo(address, _session, callback) {
      const queue = replies.get(address.address.toLowerCase());
      const code = (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ?? 250;
      recipients.push({ address: address.address, code, at: Date.now() });
      if (code === 250) return callback();
      // An enhanced status code as real servers give it, and words that repeat the address (as they often do).
      const enhanced = code >= 500 ? '5.1.1' : '4.7.1';
      callback(
        Object.assign(new Error(`${enhanced} <${address.address}>: not now, or not ever`), { responseCode: code }),
      );
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = await simpleParser(raw);
        received.push({
          to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? ''),
          subject: mail.subject ?? '',
          text: mail.text ?? '',
          html: typeof mail.html === 'string' ? mail.html : '',
          messageId: mail.messageId ?? '',
          headers: mail.headers,
          raw,
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    recipients,
    refuse: (value: boolean) => {
      refusing = value;
    },
    /** The reply codes `address` gets to RCPT TO, one per attempt, the last one from then on (250 takes it). */
    answerRecipient: (address: string, codes: number[]) => {
      replies.set(address.toLowerCase(), [...codes]);
    },
    async waitFor(predicate: (emails: ReceivedEmail[]) => boolean, timeoutMs = 15_000): Promise<ReceivedEmail[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(
            `SMTP sink: condition not met in ${timeoutMs} ms; received ${received.length}: ${received.map((m) => m.subject).join(' | ')}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
export type SmtpSink = Awaited<ReturnType<typeof startSmtpSink>>;
