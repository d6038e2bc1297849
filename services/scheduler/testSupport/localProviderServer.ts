import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Logger } from '../../../platform/logger.ts';

// Test support: a real local HTTP server standing in for a provider, and a logger whose lines tests can read.

/** What the server does with one request: answer, never answer, answer headers then stall, or hang up. */
export type Reply = { status?: number; body: string; contentType?: string } | 'hang' | 'stall-body' | 'hang-up';

export type ProviderServer = {
  /** Base URL to use as RATES_URL. */
  url: string;
  /** Path and query of every request received, in order. */
  requests: string[];
  close: () => Promise<void>;
};

/** Serves `replies` in order, repeating the last one once they run out. */
export async function startProviderServer(replies: Reply[]): Promise<ProviderServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const reply = replies[Math.min(requests.length, replies.length) - 1]!;
    answer(reply, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(reply: Reply, res: ServerResponse): void {
  if (reply === 'hang') return;
  if (reply === 'hang-up') {
    res.socket?.destroy();
    return;
  }
  if (reply === 'stall-body') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"rates":{');
    return;
  }
  res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
  res.end(reply.body);
}

export type LogLine = { level: number; msg: string; [key: string]: unknown };

/** A real pino logger writing to memory. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/**
 * Fast retries, so failure tests take milliseconds. The timeout is generous: a local server that answers at once
 * can still take a few hundred ms on a loaded machine, and a timed-out first try would count as a retry. Tests of
 * timeouts set their own.
 */
export const quickHttp = { timeoutMs: 5_000, attempts: 3, backoffMs: 1 };
