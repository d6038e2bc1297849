import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startPglite, type Embedded } from '../platform/embedded.ts';

/** Where the tests and benchmarks find their real servers, and how to stop the ones started for them. */
export type TestServers = {
  natsUrl: string;
  databaseUrl: string;
  /** Embedded PGlite serves one statement stream at a time: its users keep one connection. */
  embeddedPostgres: boolean;
  /** What was started here rather than named by the environment (`nats-server`, `pglite`). */
  started: string[];
  stop: () => Promise<void>;
};

/** The servers named by NATS_URL / DATABASE_URL, else a private `nats-server -js` and embedded PGlite. */
export async function resolveTestServers(env: Record<string, string | undefined> = process.env): Promise<TestServers> {
  const running: Embedded[] = [];
  const started: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cra-servers-'));
  let natsUrl = env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer(dir);
    running.push(nats);
    started.push('nats-server');
    natsUrl = nats.url;
  }
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pglite = await startPglite(undefined);
    running.push(pglite);
    started.push('pglite');
    databaseUrl = pglite.url;
  }
  return {
    natsUrl,
    databaseUrl,
    embeddedPostgres: !env.DATABASE_URL,
    started,
    stop: async () => {
      for (const server of running.reverse()) await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
