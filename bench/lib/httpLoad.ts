import { Agent, request } from 'node:http';

export type HttpLoad = { requests: number; ms: number; statuses: Record<number, number>; bytes: number };

/**
 * `connections` keep-alive connections on loopback, each sending GET `url` again as soon as the previous answer is
 * read in full, for `seconds` (a closed loop, as autocannon does without pipelining).
 */
export async function httpLoad(
  url: string,
  options: { connections: number; seconds: number; headers?: Record<string, string> },
): Promise<HttpLoad> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
  const target = new URL(url);
  const statuses: Record<number, number> = {};
  let requests = 0;
  let bytes = 0;
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: 'GET',
          headers: options.headers ?? {},
        },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on('end', () => {
            statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
            requests++;
            resolve();
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (performance.now() < deadline) await once();
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { requests, ms, statuses, bytes };
}
