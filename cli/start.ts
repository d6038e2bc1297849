import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { closeOnSignal, type Closer } from '../platform/shutdown.ts';
import { linkSecret } from '../platform/tokens.ts';
import { startCommandService } from '../services/command/main.ts';
import { startProjector } from '../services/projector/main.ts';
import { migrateSchema } from '../services/projector/projector.ts';
import { startScheduler } from '../services/scheduler/main.ts';
import { openConnections, type Connections } from './connect.ts';
import { resolveSecret, startInfrastructure } from './runtime.ts';

export const serviceNames = ['command', 'projector', 'scheduler'] as const;
export type ServiceName = (typeof serviceNames)[number];

type ServiceDeps = { config: Config; conn: Connections; logger: Logger; secret: string };
type Started = { stop: Closer; url?: string };

const starters: Record<ServiceName, (deps: ServiceDeps) => Promise<Started>> = {
  command: async ({ conn, logger, secret }) =>
    startCommandService(conn.nc, { store: conn.store, ns: conn.ns, linkSecret: linkSecret(secret), now: () => new Date(), logger: logger.child({ service: 'command' }) }),
  scheduler: async ({ config, conn, logger }) => startScheduler({ config, store: conn.store, logger, fetchOnStart: true }),
  projector: async ({ conn, logger }) => startProjector({ store: conn.store, pool: conn.pool, schema: conn.schema, logger: logger.child({ service: 'projector' }) }),
};

/** `cra start [service…]`: the named services (all by default) in one process, on embedded defaults where unset. */
export async function startCommand(config: Config, names: string[], logger: Logger): Promise<number> {
  const unknown = names.filter((n) => !(serviceNames as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown service(s) ${unknown.join(', ')}; choose from ${serviceNames.join(' ')}`);
  const chosen = names.length > 0 ? (names as ServiceName[]) : [...serviceNames];
  const closers: Closer[] = [];
  closeOnSignal(logger, closers);
  const infra = await startInfrastructure(config, logger);
  closers.push(infra.stop);
  const conn = await openConnections(config, infra, logger, `cra-${chosen.join('-')}`);
  closers.push(conn.close);
  // Services that read the read models need their tables before the projector's first batch.
  await migrateSchema(conn.pool, conn.schema);
  const secret = resolveSecret(config);
  for (const name of chosen) {
    const started = await starters[name]({ config, conn, logger, secret });
    closers.push(started.stop);
    if (started.url) process.stdout.write(`CRA is running at ${started.url}\n`);
  }
  logger.info({ services: chosen }, 'started');
  return new Promise<number>(() => {});
}
