import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { CommandReply, subjects, type CommandName, type CommandPayload, type Namespace } from '../events/index.ts';

export type SendOptions = { commandId?: string; correlationId?: string; timeoutMs?: number };

/**
 * Send a command over NATS request/reply and get its typed reply. A timeout or no command service
 * is an UNAVAILABLE reply, never a throw, so every caller handles one shape.
 */
export function commandClient(nc: NatsConnection, ns: Namespace) {
  return async function send<N extends CommandName>(name: N, payload: CommandPayload<N>, options: SendOptions = {}): Promise<CommandReply> {
    const commandId = options.commandId ?? randomUUID();
    const body = JSON.stringify({ commandId, correlationId: options.correlationId ?? commandId, payload });
    try {
      const msg = await nc.request(subjects.command(ns, name), body, { timeout: options.timeoutMs ?? 5_000 });
      const parsed = CommandReply.safeParse(msg.json());
      if (parsed.success) return parsed.data;
      return { ok: false, error: 'UNAVAILABLE', message: 'the command service answered in an unknown format' };
    } catch (error) {
      return { ok: false, error: 'UNAVAILABLE', message: `the command service did not answer: ${(error as Error).message}` };
    }
  };
}

export type SendCommand = ReturnType<typeof commandClient>;
