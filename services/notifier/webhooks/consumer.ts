import { randomUUID } from 'node:crypto';
import { decodeEvents, EventDecodeError, subjects, type DomainEvent, type EventOf } from '../../../events/index.ts';
import type { SendCommand } from '../../../platform/commandClient.ts';
import type { EventStore, RawMessage } from '../../../platform/eventStore/index.ts';
import { tablesIn, type Pool } from '../../../platform/postgres.ts';
import { waitForProjection } from '../../../platform/projectionWait.ts';
import { deliver, type Channel, type DeliveryResult, type WebhookDeps } from './delivery.ts';
import type { DeliveryContent } from './messages.ts';
import { sharedRunChannelsReader, type ChannelRow, type RunChannels } from './runChannels.ts';

export type WebhookConsumerDeps = Omit<WebhookDeps, 'store'> & {
  store: EventStore;
  pool: Pool;
  schema: string;
  publicUrl: string;
  /** Sends PauseChannel for a channel whose run delivery failed for good (services/command's decider decides it). */
  send: SendCommand;
  /** How long a message waits for the projector before it is looked at again. */
  projectionWaitMs?: number;
  /** Messages worked on at once: one slow endpoint holds at most its host's slots (HostSlots), never the rest. */
  parallel?: number;
  hooks?: { onDelivery?: (channelId: string, reference: string, result: DeliveryResult) => void };
};

/**
 * The channels the run at log sequence `seq` goes to, of those the read model has active and added before the run:
 * the ones that were on at the run (not paused or deleted as of it: read from each channel's own subject, since its
 * digest is recorded and handled later) and are on still (a delivery stops once its channel is paused or deleted).
 */
async function channelsOnAt(deps: WebhookConsumerDeps, active: readonly ChannelRow[], seq: number): Promise<Channel[]> {
  const on = await Promise.all(
    active.map(async (channel) => {
      // Unchanged since before the run: on now, so on then. Only a channel paused or resumed since is read back.
      if (channel.updatedSeq < seq) return true;
      const { history } = await deps.store.load(subjects.channel(deps.ns, channel.channelId));
      const last = history
        .filter((h) => h.seq < seq)
        .flatMap((h) => h.events)
        .filter((e) => e.type === 'ChannelPaused' || e.type === 'ChannelResumed' || e.type === 'ChannelDeleted')
        .at(-1);
      return !last || last.type === 'ChannelResumed';
    }),
  );
  return active
    .filter((_, i) => on[i])
    .map(({ channelId, userId, url, format, secret }) => ({ channelId, userId, url, format, secret }));
}

/**
 * The user's channels and the run as of the digest message at `seq`, once the projector has got there (read with
 * the projector's checkpoint in one snapshot, batched with the other digests'); undefined if it has not in `waitMs`.
 */
async function runChannelsAt(
  deps: WebhookConsumerDeps,
  userId: string,
  runSeq: number,
  seq: number,
  waitMs: number,
): Promise<RunChannels | undefined> {
  const read = sharedRunChannelsReader(deps.pool, deps.schema);
  const deadline = Date.now() + waitMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
    const found = await read(userId, runSeq);
    if (found.checkpoint >= seq) return found;
    if (Date.now() + delay > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function channelOf(deps: WebhookConsumerDeps, channelId: string): Promise<ChannelRow | undefined> {
  const found = await deps.pool.query<ChannelRow>(
    `SELECT channel_id AS "channelId", user_id AS "userId", url, format, secret, status, updated_seq AS "updatedSeq"
     FROM ${tablesIn(deps.schema)('channels')} WHERE channel_id = $1`,
    [channelId],
  );
  return found.rows[0];
}

/**
 * What a digest's opening message asks of the channels: the triggers it recorded for one user and run (the same that
 * user's digest email tells), to each of their channels that are on. Undefined for any other message.
 */
function digestTriggers(events: readonly DomainEvent[]): EventOf<'AlertTriggered'>['data'][] | undefined {
  const triggers = events.filter((e): e is EventOf<'AlertTriggered'> => e.type === 'AlertTriggered');
  return triggers.length > 0 ? triggers.map((t) => t.data) : undefined;
}

/**
 * One log message as the webhook deliverer sees it: a digest's recorded triggers go to the user's channels, a test to
 * its channel; anything else is nothing to it. A delivery that waits (a retry, another instance's claim, a busy host)
 * has the message looked at again when the earliest of them is due; the ones that ended are not sent again.
 */
export async function handleWebhookMessage(
  deps: WebhookConsumerDeps,
  raw: RawMessage,
): Promise<'ack' | { retryInMs: number }> {
  let events: DomainEvent[];
  try {
    events = decodeEvents(raw.headers, raw.body).events;
  } catch (error) {
    if (error instanceof EventDecodeError) return 'ack';
    throw error;
  }
  const triggers = digestTriggers(events);
  const test = events.find((e): e is EventOf<'ChannelTestRequested'> => e.type === 'ChannelTestRequested');
  if (!triggers && !test) return 'ack';
  // The channels (and the run) as of this message: the projector must have got there.
  const waitMs = deps.projectionWaitMs ?? 10_000;
  const alertsUrl = `${deps.publicUrl}/alerts`;
  const work: { channel: Channel; reference: string; content: DeliveryContent }[] = [];
  if (triggers) {
    const { userId, runSeq } = triggers[0]!;
    const found = await runChannelsAt(deps, userId, runSeq, raw.seq, waitMs);
    if (!found) return { retryInMs: 2_000 };
    for (const channel of await channelsOnAt(deps, found.channels, runSeq))
      work.push({
        channel,
        reference: String(runSeq),
        content: { kind: 'digest', runSeq, asOf: found.asOf ?? '', alertsUrl, triggers },
      });
  }
  if (test) {
    if (!(await waitForProjection(deps.pool, deps.schema, raw.seq, waitMs))) return { retryInMs: 2_000 };
    const channel = await channelOf(deps, test.data.channelId);
    if (channel && channel.status !== 'deleted' && channel.userId === test.data.userId)
      work.push({ channel, reference: `t${test.data.testId}`, content: { kind: 'test', alertsUrl } });
  }
  const results = await Promise.all(
    work.map(async ({ channel, reference, content }) => {
      const result = await deliver(deps, channel, reference, content);
      deps.hooks?.onDelivery?.(channel.channelId, reference, result);
      // A run's message the endpoint refused for good, or failed for 24 hours: the channel keeps failing, so it is paused.
      if (typeof result === 'object' && 'ended' in result && result.ended !== 'delivered' && content.kind === 'digest')
        await pauseFailing(deps, channel, reference);
      return result;
    }),
  );
  const waits = results.flatMap((r) => (typeof r === 'object' && 'until' in r ? [Date.parse(r.until)] : []));
  if (waits.length === 0) return 'ack';
  return { retryInMs: Math.max(200, Math.min(...waits) - deps.now().getTime()) };
}

async function pauseFailing(deps: WebhookConsumerDeps, channel: Channel, reference: string): Promise<void> {
  const reply = await deps.send(
    'PauseChannel',
    { userId: channel.userId, channelId: channel.channelId, reason: 'failing' },
    { commandId: `failing-${reference}-${channel.channelId}` },
  );
  // NOT_FOUND: deleted meanwhile, nothing to pause. Anything else is retried with the message.
  if (!reply.ok && reply.error !== 'NOT_FOUND') throw new Error(`could not pause a failing channel: ${reply.error}`);
}

/** Messages worked on at once, and deliveries to one host at once (as many more may wait for one): see HostSlots. */
export const DEFAULT_PARALLEL = 32;
export const DEFAULT_PER_HOST = 8;

/** The webhook deliverer: a durable consumer of its own, beside the notifier's, so no endpoint ever holds up an email. */
export function startWebhookDelivery(deps: WebhookConsumerDeps) {
  const controller = new AbortController();
  const logger = deps.logger.child({ service: 'webhooks' });
  const instanceId = deps.instanceId ?? randomUUID();
  const running = (async () => {
    while (!controller.signal.aborted) {
      try {
        await deps.store.consumeDurable(
          'cra-webhooks',
          (raw) => handleWebhookMessage({ ...deps, instanceId, logger }, raw),
          {
            signal: controller.signal,
            concurrency: deps.parallel ?? DEFAULT_PARALLEL,
            // Each digest whose delivery waits for a retry stays pending until then: room for many, so that an
            // endpoint down for hours (Slack's, say, for many users) does not stop the deliveries to every other.
            maxAckPending: 10_000,
            onError: (error, raw) =>
              logger.warn({ err: error, seq: raw.seq }, 'webhook delivery will retry this event'),
          },
        );
      } catch (error) {
        if (controller.signal.aborted) break;
        logger.error({ err: error }, 'webhook consumer failed; restarting in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  })();
  return {
    stop: async () => {
      controller.abort();
      await running;
      await deps.agent.close();
    },
  };
}
