import type { ProvidedContext } from 'vitest';
import type { ServerPlan } from './serverPlan.ts';
import { resolveTestServers } from './servers.ts';

// Tests always use real servers: the ones named by NATS_URL / DATABASE_URL (CI), else containers or private local ones.
export default async function setup({
  provide,
}: {
  provide: <K extends keyof ProvidedContext>(key: K, value: ProvidedContext[K]) => void;
}) {
  const servers = await resolveTestServers();
  if (servers.plan.nats !== 'urls' || servers.plan.postgres !== 'urls')
    console.error(`test servers: ${servers.summary}`);
  provide('embeddedPostgres', servers.embeddedPostgres ? 'yes' : '');
  provide('serverPlan', servers.plan);
  provide('natsUrl', servers.natsUrl);
  provide('databaseUrl', servers.databaseUrl);
  return servers.stop;
}

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    databaseUrl: string;
    embeddedPostgres: string;
    /** Which way this run's servers came; the fault tests' private servers come the same way (support/labServers.ts). */
    serverPlan: ServerPlan;
  }
}
