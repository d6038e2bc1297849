// A lean SMTP sink on loopback, in its own process: it accepts every message and keeps only who it was for and its
// Message-ID (no MIME parsing), so the sink costs the senders as little as a real mail server's queue would.
import { SMTPServer } from 'smtp-server';

let server: SMTPServer | undefined;
/** `at`: when the message was accepted (epoch ms, comparable across the benchmark's processes). */
let accepted: { to: string; messageId: string; bytes: number; at: number }[] = [];

export async function start(): Promise<string> {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const head = raw.subarray(0, Math.max(0, raw.indexOf('\r\n\r\n'))).toString('latin1');
        accepted.push({
          to: session.envelope.rcptTo.map((r) => r.address).join(','),
          messageId: /^Message-ID:\s*(\S+)/im.exec(head)?.[1] ?? '',
          bytes: raw.length,
          at: Date.now(),
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve((server!.server.address() as { port: number }).port)),
  );
  return `smtp://127.0.0.1:${port}`;
}

/** What arrived since the last call, and forget it. */
export function take(): typeof accepted {
  const out = accepted;
  accepted = [];
  return out;
}

/** How many arrived since the last take (cheap to poll). */
export function count(): number {
  return accepted.length;
}

export async function stop(): Promise<void> {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
