import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startPglite, type Embedded } from '../../platform/embedded.ts';

export type Servers = { natsUrl: string; databaseUrl: string; embedded: string[]; stop: () => Promise<void> };

/** The real servers named by NATS_URL / DATABASE_URL, else the same private local fallbacks as the tests. */
export async function resolveServers(): Promise<Servers> {
  const started: Embedded[] = [];
  const embedded: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cra-bench-'));
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer(dir);
    started.push(nats);
    embedded.push('nats-server');
    natsUrl = nats.url;
  }
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pglite = await startPglite(undefined);
    started.push(pglite);
    embedded.push('pglite');
    databaseUrl = pglite.url;
  }
  return {
    natsUrl,
    databaseUrl,
    embedded,
    stop: async () => {
      for (const s of started.reverse()) await s.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
