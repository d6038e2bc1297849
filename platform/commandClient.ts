import { randomUUID } from 'node:crypto';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { CommandReply, subjects, type CommandName, type CommandPayload, type Namespace } from '../events/index.ts';

export type SendOptions = { commandId?: string; correlationId?: string; timeoutMs?: number };

type Waiting = { answer: (reply: CommandReply) => void; timer: NodeJS.Timeout };

const unavailable = (message: string): CommandReply => ({ ok: false, error: 'UNAVAILABLE', message });

/**
 * Requests whose replies all arrive on one subscription (`<inbox>.<token>`), told apart by token. nc.request does
 * the same, but races a timer promise and builds an Error on every call: about twice the CPU per command
 * (bench: command-append). Subscribes on the first request, so a client that never sends holds nothing.
 */
function replyInbox(nc: NatsConnection) {
  const prefix = createInbox();
  const waiting = new Map<string, Waiting>();
  let subscribed = false;
  let nextToken = 0;
  const settle = (token: string, reply: CommandReply) => {
    const w = waiting.get(token);
    if (!w) return;
    waiting.delete(token);
    clearTimeout(w.timer);
    w.answer(reply);
  };
  const settleAll = (message: string) => {
    for (const token of [...waiting.keys()]) settle(token, unavailable(message));
  };
  const subscribe = () => {
    const subscription = nc.subscribe(`${prefix}.*`, {
      callback: (error, msg) => {
        if (error) return settleAll(`the command service did not answer: ${error.message}`);
        settle(msg.subject.slice(prefix.length + 1), readReply(msg));
      },
    });
    subscribed = true;
    void subscription.closed.then(() => {
      subscribed = false;
      settleAll('the command service did not answer: the connection closed');
    });
  };

  return function request(subject: string, body: string, timeoutMs: number): Promise<CommandReply> {
    return new Promise((answer) => {
      const token = (nextToken++).toString(36);
      const timer = setTimeout(() => settle(token, unavailable(`the command service did not answer within ${timeoutMs} ms`)), timeoutMs);
      waiting.set(token, { answer, timer });
      try {
        if (!subscribed) subscribe();
        nc.publish(subject, body, { reply: `${prefix}.${token}` });
      } catch (error) {
        settle(token, unavailable(`the command service did not answer: ${(error as Error).message}`));
      }
    });
  };
}

function readReply(msg: Msg): CommandReply {
  // The server's "no responders" status: no command service is subscribed.
  if (msg.data.length === 0 && msg.headers?.code === 503) return unavailable('the command service did not answer: no command service is running');
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
    return request(subjects.command(ns, name), body, options.timeoutMs ?? 5_000);
  };
}

export type SendCommand = ReturnType<typeof commandClient>;
