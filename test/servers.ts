import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer, startPglite } from '../platform/embedded.ts';
import { containerEngineAnswers } from './containers/engine.ts';
import { planTestServers, type ServerPlan } from './serverPlan.ts';

/** Where the tests and benchmarks find their real servers, and how to stop the ones started for them. */
export type TestServers = {
  natsUrl: string;
  databaseUrl: string;
  /** Embedded PGlite serves one statement stream at a time: its users keep one connection. */
  embeddedPostgres: boolean;
  /** Which way each server came (test/serverPlan.ts). */
  plan: ServerPlan;
  /** What was started here, where it listens, and how long it took: one line, safe to print (no password). */
  summary: string;
  stop: () => Promise<void>;
};

type Started = { url: string; said: string; stop: () => Promise<void> };

const withoutCredentials = (urls: string) => urls.replace(/\/\/[^@/]*@/g, '//');

/** How the plan's way starts a NATS server; `dir` holds a local process's store. */
async function startNats(plan: ServerPlan, env: Record<string, string | undefined>, dir: string): Promise<Started> {
  if (plan.nats === 'urls')
    return { url: env.NATS_URL!, said: `NATS at ${withoutCredentials(env.NATS_URL!)}`, stop: async () => {} };
  if (plan.nats === 'containers') {
    const { startNatsContainer } = await import('./containers/natsContainer.ts');
    const nats = await startNatsContainer(plan.images.nats);
    return { url: nats.url, said: `NATS in a container of ${nats.image} on ${nats.address}`, stop: nats.remove };
  }
  const nats = await startNatsServer(dir);
  return { url: nats.url, said: `NATS as a nats-server process on ${nats.address}`, stop: () => nats.stop() };
}

async function startPostgres(plan: ServerPlan, env: Record<string, string | undefined>): Promise<Started> {
  if (plan.postgres === 'urls')
    return {
      url: env.DATABASE_URL!,
      said: `Postgres at ${withoutCredentials(env.DATABASE_URL!)}`,
      stop: async () => {},
    };
  if (plan.postgres === 'containers') {
    const { startPostgresContainer } = await import('./containers/postgresContainer.ts');
    const postgres = await startPostgresContainer(plan.images.postgres);
    return {
      url: postgres.url,
      said: `Postgres in a container of ${postgres.image} on ${postgres.address}`,
      stop: postgres.remove,
    };
  }
  const pglite = await startPglite(undefined);
  return { url: pglite.url, said: `Postgres as embedded PGlite on ${pglite.address}`, stop: pglite.stop };
}

/**
 * The servers named by NATS_URL / DATABASE_URL, else containers when a container engine answers, else a private
 * `nats-server -js` and embedded PGlite; CRA_TEST_SERVERS forces one way (test/serverPlan.ts).
 */
export async function resolveTestServers(env: Record<string, string | undefined> = process.env): Promise<TestServers> {
  const plan = await planTestServers(env, containerEngineAnswers);
  const dir = mkdtempSync(join(tmpdir(), 'cra-servers-'));
  const t0 = performance.now();
  const [nats, postgres] = await Promise.allSettled([startNats(plan, env, dir), startPostgres(plan, env)]);
  const stop = async () => {
    for (const server of [postgres, nats]) if (server.status === 'fulfilled') await server.value.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (nats.status === 'rejected') return stop().then(() => Promise.reject(nats.reason));
  if (postgres.status === 'rejected') return stop().then(() => Promise.reject(postgres.reason));
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  return {
    natsUrl: nats.value.url,
    databaseUrl: postgres.value.url,
    embeddedPostgres: plan.postgres === 'processes',
    plan,
    summary: `${nats.value.said}; ${postgres.value.said} (ready in ${seconds} s)`,
    stop,
  };
}
