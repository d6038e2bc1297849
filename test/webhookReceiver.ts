import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got: when, its path, headers and body. */
export type ReceivedHook = { at: number; path: string; headers: IncomingHttpHeaders; body: string };
/** How a receiver answers the n-th request to a path (1-based): a status (and headers), or hanging (a timeout). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';
export type Answering = (path: string, n: number, hook: ReceivedHook) => Answer;

/**
 * A real HTTP server on 127.0.0.1 that webhooks are delivered to, as Slack, Discord or someone's endpoint would take
 * them: it keeps every request and answers as `answering` says (200 by default).
 */
export async function startWebhookReceiver(answering: Answering = () => ({ status: 200 })) {
  const received: ReceivedHook[] = [];
  const counts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const hook = { at: Date.now(), path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(hook);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const answer = answering(path, n, hook);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer.status, answer.headers ?? {}).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    to: (path: string) => received.filter((h) => h.path === path),
    async waitFor(predicate: (hooks: ReceivedHook[]) => boolean, timeoutMs = 15_000): Promise<ReceivedHook[]> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline)
          throw new Error(`webhook receiver: condition not met in ${timeoutMs} ms; received ${received.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return received;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
