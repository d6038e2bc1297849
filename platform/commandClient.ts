import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { replyInbox, type InboxReply } from './replyInbox.ts';
import { CommandReply, subjects, type CommandName, type CommandPayload, type Namespace } from '../events/index.ts';

export type SendOptions = { commandId?: string; correlationId?: string; timeoutMs?: number };

const unavailable = (message: string): CommandReply => ({ ok: false, error: 'UNAVAILABLE', message });

function readReply(reply: InboxReply): CommandReply {
  if (!reply.ok) {
    const why = reply.reason === 'no responders' ? 'no command service is running' : reply.reason;
    return unavailable(`the command service did not answer: ${why}`);
  }
  const { msg } = reply;
  let body: unknown;
  try {
    body = msg.json();
  } catch {
    return unavailable('the command service answered in an unknown format');
  }
  const parsed = CommandReply.safeParse(body);
  return parsed.success ? parsed.data : unavailable('the command service answered in an unknown format');
}

/**
 * Send a command over NATS request/reply and get its typed reply. A timeout or no command service
 * is an UNAVAILABLE reply, never a throw, so every caller handles one shape.
 */
export function commandClient(nc: NatsConnection, ns: Namespace) {
  const request = replyInbox(nc);
  return async function send<N extends CommandName>(name: N, payload: CommandPayload<N>, options: SendOptions = {}): Promise<CommandReply> {
    const commandId = options.commandId ?? randomUUID();
    const body = JSON.stringify({ commandId, correlationId: options.correlationId ?? commandId, payload });
    return readReply(await request(subjects.command(ns, name), body, { timeoutMs: options.timeoutMs ?? 5_000 }));
  };
}

export type SendCommand = ReturnType<typeof commandClient>;
