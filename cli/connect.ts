import { namespaceFor, type Namespace } from '../events/index.ts';
import type { Config } from '../platform/config.ts';
import { EventStore } from '../platform/eventStore/index.ts';
import type { Logger } from '../platform/logger.ts';
import { connectNats, type NatsConnection } from '../platform/nats.ts';
import { createPool, type Pool } from '../platform/postgres.ts';
import { PersonalData } from '../platform/personalData/index.ts';
import { resolveMasterKey } from './runtime.ts';

export type Connections = {
  nc: NatsConnection;
  store: EventStore;
  /** Personal fields sealed under each person's key (platform/personalData). */
  personal: PersonalData;
  pool: Pool;
  ns: Namespace;
  schema: string;
  isConnected: () => boolean;
  close: () => Promise<void>;
};

/** Open the NATS connection, the event stream and the Postgres pool every command and service shares. */
export async function openConnections(
  config: Config,
  urls: { natsUrl: string; databaseUrl: string; embeddedPostgres?: boolean },
  logger: Logger,
  name: string,
): Promise<Connections> {
  const ns = namespaceFor(config.CRA_NAMESPACE);
  const nc = await connectNats(urls.natsUrl, { name, logger });
  const store = await EventStore.open(nc, ns, { replicas: config.CRA_STREAM_REPLICAS });
  const personal = await PersonalData.open(nc, ns, resolveMasterKey(config), { replicas: config.CRA_STREAM_REPLICAS });
  const pool = createPool(urls.databaseUrl, urls.embeddedPostgres ? { max: 1 } : {});
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') connected = false;
      if (status.type === 'reconnect') connected = true;
    }
  })();
  return {
    isConnected: () => connected,
    nc,
    store,
    personal,
    pool,
    ns,
    schema: config.CRA_SCHEMA,
    close: async () => {
      personal.close();
      await nc.drain().catch(() => nc.close());
      await pool.end();
    },
  };
}
