import { resolveTestServers } from './servers.ts';

// Tests always use real servers: the ones named by NATS_URL / DATABASE_URL (CI), else private local ones.
export default async function setup({ provide }: { provide: (key: string, value: string) => void }) {
  const servers = await resolveTestServers();
  provide('embeddedPostgres', servers.embeddedPostgres ? 'yes' : '');
  provide('natsUrl', servers.natsUrl);
  provide('databaseUrl', servers.databaseUrl);
  return servers.stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    databaseUrl: string;
    embeddedPostgres: string;
  }
}
