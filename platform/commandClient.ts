import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { replyInbox, type InboxReply } from './replyInbox.ts';
import { CommandReply, subjects, type CommandName, type CommandPayload, type Namespace } from '../events/index.ts';

export type SendOptions = { commandId?: string; correlationId?: string; timeoutMs?: number };

const unavailable = (message: string): CommandReply => ({ ok: false, error: 'UNAVAILABLE', message });

function readReply(reply: InboxReply): CommandReply {
  if (!reply.ok) {
    if (reply.reason === 'no responders')
      return unavailable('the command service did not answer: no command service is running');
    // Refused by the client before it went out: nothing was changed.
    if (reply.thrown !== undefined) return unavailable(`the command could not be sent: ${reply.reason}`);
    // It went out and no answer came: a command service may be working on it still, and may store it.
    return {
      ok: false,
      error: 'UNCONFIRMED',
      message: `the command service did not answer (${reply.reason}): the command may have been stored`,
    };
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
 * Send a command over NATS request/reply and get its typed reply. No command service is an UNAVAILABLE reply (nothing
 * was changed), no answer in time an UNCONFIRMED one (it may have been stored: send the same command id again), never
 * a throw, so every caller handles one shape.
 */
export function commandClient(nc: NatsConnection, ns: Namespace) {
  const request = replyInbox(nc);
  return async function send<N extends CommandName>(
    name: N,
    payload: CommandPayload<N>,
    options: SendOptions = {},
  ): Promise<CommandReply> {
    const commandId = options.commandId ?? randomUUID();
    const body = JSON.stringify({ commandId, correlationId: options.correlationId ?? commandId, payload });
    return readReply(await request(subjects.command(ns, name), body, { timeoutMs: options.timeoutMs ?? 5_000 }));
  };
}

export type SendCommand = ReturnType<typeof commandClient>;
