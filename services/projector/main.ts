import type { EventStore } from '../../platform/eventStore/index.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Pool } from '../../platform/postgres.ts';
import { runProjector, type ProjectorHooks } from './projector.ts';

/** The projector service: follow the log into the read models until stopped. */
export function startProjector(deps: {
  store: EventStore;
  pool: Pool;
  schema: string;
  logger: Logger;
  hooks?: ProjectorHooks;
}) {
  const controller = new AbortController();
  const running = runProjector({ ...deps, signal: controller.signal });
  return {
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}
