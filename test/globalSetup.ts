import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startPglite, type Embedded } from '../platform/embedded.ts';

// Tests always use real servers: the ones named by NATS_URL / DATABASE_URL (CI), else private local ones.
export default async function setup({ provide }: { provide: (key: string, value: string) => void }) {
  const started: Embedded[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'cra-test-'));
  let natsUrl = process.env.NATS_URL;
  if (!natsUrl) {
    const nats = await startNatsServer(dir);
    started.push(nats);
    natsUrl = nats.url;
  }
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pglite = await startPglite(undefined);
    started.push(pglite);
    databaseUrl = pglite.url;
  }
  provide('embeddedPostgres', process.env.DATABASE_URL ? '' : 'yes');
  provide('natsUrl', natsUrl);
  provide('databaseUrl', databaseUrl);
  return async () => {
    for (const s of started.reverse()) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    databaseUrl: string;
    embeddedPostgres: string;
  }
}
