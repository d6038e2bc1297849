import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake provider answers right now; a test switches it while the scheduler keeps fetching. */
export type ProviderBehaviour =
  | { answer: 'publication'; timestamp: number; quotes: Record<string, unknown> }
  | { answer: 'status'; status: number; body: string; contentType?: string }
  | { answer: 'hang' }
  | { answer: 'stall-body' };

/** A local stand-in for exchangerate-host (`GET /live?access_key=…&source=USD`) whose behaviour the test changes at will. */
export async function startRatesServer(initial: ProviderBehaviour) {
  let behaviour = initial;
  const requests: { at: number; url: string; behaviour: ProviderBehaviour['answer'] }[] = [];
  const server = createServer((req, res) => {
    requests.push({ at: Date.now(), url: req.url ?? '', behaviour: behaviour.answer });
    answer(behaviour, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    behave: (next: ProviderBehaviour) => {
      behaviour = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type RatesServer = Awaited<ReturnType<typeof startRatesServer>>;

function answer(behaviour: ProviderBehaviour, res: ServerResponse) {
  switch (behaviour.answer) {
    case 'hang':
      return;
    case 'stall-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"success":true,"quotes":{');
      return;
    case 'status':
      res.writeHead(behaviour.status, { 'content-type': behaviour.contentType ?? 'application/json' });
      res.end(behaviour.body);
      return;
    case 'publication':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ success: true, timestamp: behaviour.timestamp, source: 'USD', quotes: behaviour.quotes }),
      );
  }
}
