// The command service as `cra start command` runs it, in its own process.
import { linkSecret } from '../../platform/tokens.ts';
import { startCommandService } from '../../services/command/main.ts';
import { benchLogger, connect, type Connected, type Place } from '../lib/world.ts';

let connected: Connected | undefined;
let service: { stop: () => Promise<void> } | undefined;

export async function start(place: Place, secret: string): Promise<void> {
  connected = await connect(place, 'bench-command');
  const { nc, store, ns, pool, personal } = connected;
  service = startCommandService(nc, {
    store,
    ns,
    pool,
    schema: place.schema,
    linkSecret: linkSecret(secret),
    personal,
    now: () => new Date(),
    logger: benchLogger(),
  });
}

export async function stop(): Promise<void> {
  await service?.stop();
  await connected?.close();
}
