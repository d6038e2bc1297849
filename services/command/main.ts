import type { NatsConnection } from '@nats-io/transport-node';
import type { CommandReply } from '../../events/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { serveCommands } from './commandServer.ts';
import type { HandlerDeps } from './handlers.ts';

/** The command service: answer cra.cmd.* until stopped, finishing the requests in flight. */
export function startCommandService(
  nc: NatsConnection,
  deps: HandlerDeps & { logger: Logger; onReply?: (name: string, reply: CommandReply) => void },
) {
  const subscription = serveCommands(nc, deps);
  return { stop: async () => subscription.drain() };
}
