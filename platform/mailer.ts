import nodemailer from 'nodemailer';
import type { DevMailbox } from './devMailbox.ts';

export type OutgoingEmail = {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Deterministic per email, so a resend after a crash is recognisably the same message. */
  messageId: string;
  headers?: Record<string, string>;
};

export type Mailer = { send: (email: OutgoingEmail) => Promise<void>; close: () => void };

/** SMTP through nodemailer (pooled connections), or the dev mailbox when SMTP_URL is unset. */
export function createMailer(options: { smtpUrl?: string | undefined; from: string; devMailbox?: DevMailbox }): Mailer {
  if (!options.smtpUrl) {
    const box = options.devMailbox;
    if (!box) throw new Error('no SMTP_URL and no dev mailbox to deliver to');
    return { send: (email) => box.deliver({ ...email, from: options.from }), close: () => {} };
  }
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: 4,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    send: async (email) => {
      await transport.sendMail({
        from: options.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        headers: email.headers ?? {},
      });
    },
    close: () => transport.close(),
  };
}
