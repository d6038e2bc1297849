// A lean webhook receiver on loopback, in its own process: it answers 204 to every POST and keeps only its path and
// webhook id, so the receiver costs the senders as little as a real endpoint's queue would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

let server: Server | undefined;
let received: { path: string; webhookId: string }[] = [];

export async function start(): Promise<string> {
  server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ path: req.url ?? '/', webhookId: String(req.headers['webhook-id'] ?? '') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** What arrived since the last call, and forget it. */
export function take(): typeof received {
  const out = received;
  received = [];
  return out;
}

export async function stop(): Promise<void> {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
}
