import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../../platform/embedded.ts';

export type AcceptedEmail = {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
  at: number;
};

/**
 * A real SMTP server on loopback that requires a login (so SMTP_URL carries a secret the log must never hold),
 * keeps every accepted email, and can go down (nothing listens on its port) and come back on the same port.
 */
export async function startMailServer(options: { user?: string; password?: string } = {}) {
  const user = options.user ?? 'cra-mailer';
  const password = options.password ?? `smtp-secret-${Math.random().toString(36).slice(2)}`;
  const port = await freePort();
  const accepted: AcceptedEmail[] = [];
  /** Called once the server holds an email, just before it answers 250: a sender killed here sent it but never heard so. */
  let onHeld: ((email: AcceptedEmail) => void) | undefined;
  let server: SMTPServer | undefined;

  const create = () => {
    const self: SMTPServer = new SMTPServer({
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 50,
      onAuth(auth, _session, callback) {
        if (auth.username === user && auth.password === password) callback(null, { user });
        else callback(new Error('Invalid username or password'));
      },
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          void simpleParser(raw).then((mail) => {
            // Gone down meanwhile: like a real server, it never committed what it had not yet answered 250 to.
            if (server !== self) {
              callback(Object.assign(new Error('Service shutting down'), { responseCode: 421 }));
              return;
            }
            const email: AcceptedEmail = {
              messageId: mail.messageId ?? '',
              to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? ''),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              raw,
              at: Date.now(),
            };
            accepted.push(email);
            onHeld?.(email);
            callback();
          });
        });
      },
    });
    // A client killed mid-conversation resets its connection: that is the test, not a failure of the server.
    self.on('error', () => {});
    return self;
  };

  const up = async () => {
    if (server) return;
    const s = create();
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    server = s;
  };
  const down = async () => {
    const s = server;
    if (!s) return;
    server = undefined;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await up();
  return {
    url: `smtp://${user}:${password}@127.0.0.1:${port}`,
    password,
    accepted,
    up,
    down,
    isUp: () => server !== undefined,
    onAccepted: (hook: ((email: AcceptedEmail) => void) | undefined) => {
      onHeld = hook;
    },
    async waitFor(predicate: (emails: AcceptedEmail[]) => boolean, timeoutMs = 20_000, what = 'emails'): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(accepted)) {
        if (Date.now() > deadline)
          throw new Error(
            `mail server: ${what} not there after ${timeoutMs} ms; accepted ${accepted.length}: ${accepted.map((m) => m.messageId).join(' ')}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: down,
  };
}
export type MailServer = Awaited<ReturnType<typeof startMailServer>>;
