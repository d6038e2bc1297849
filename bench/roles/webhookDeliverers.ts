// webhook-delivery, both sides, each in its own process: the deliverer (handleWebhookMessage on each digest's opening
// message, as the cra-webhooks consumer calls it, with its parallelism), and raw POSTs of the same bodies with the
// same client (the guarded undici agent).
import { commandClient } from '../../platform/commandClient.ts';
import type { RawMessage } from '../../platform/eventStore/index.ts';
import { guardedAgent, guardedPost } from '../../platform/webhookHttp/guardedPost.ts';
import { DEFAULT_PARALLEL, DEFAULT_PER_HOST, handleWebhookMessage } from '../../services/notifier/webhooks/consumer.ts';
import { HostSlots } from '../../services/notifier/webhooks/hostSlots.ts';
import { messageBody, signedHeaders, type DeliveryContent } from '../../services/notifier/webhooks/messages.ts';
import { benchLogger, connect, type Connected, type Place } from '../lib/world.ts';

/** Messages worked on at once and deliveries to one host at once: the consumer's defaults, as `cra start` runs it. */
export const PARALLEL = DEFAULT_PARALLEL;
export const PER_HOST = DEFAULT_PER_HOST;
const policy = { allowHttp: true, allowPrivate: true };

let connected: Connected | undefined;
const agent = guardedAgent(policy);

export async function start(place: Place): Promise<void> {
  connected = await connect(place, 'bench-webhooks');
}

/** `work` items, `PARALLEL` at a time, in a closed loop. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i]!);
    }),
  );
}

/** Every digest's opening message of the run, read from the log before the clock starts. */
async function digests(runSeq: number): Promise<RawMessage[]> {
  const { store, ns } = connected!;
  const found: RawMessage[] = [];
  for await (const raw of store.read({
    fromSeq: runSeq + 1,
    filter: `${ns.events}.digest.${runSeq}.>`,
    untilSeq: await store.lastSeq(),
  }))
    found.push(raw);
  return found;
}

/** The deliverer on every digest of the run: claim, sign, POST, record; how long it took and what it came to. */
export async function deliver(place: Place, runSeq: number): Promise<{ ms: number; acked: number; messages: number }> {
  const { store, ns, pool, personal, nc } = connected!;
  const messages = await digests(runSeq);
  const deps = {
    store,
    ns,
    pool,
    personal,
    schema: place.schema,
    publicUrl: 'http://localhost:7007',
    send: commandClient(nc, ns),
    policy,
    agent,
    hosts: new HostSlots(PER_HOST),
    now: () => new Date(),
    instanceId: 'bench-webhooks',
    claimMs: 120_000,
    logger: benchLogger(),
    parallel: PARALLEL,
  };
  let acked = 0;
  const started = performance.now();
  await inParallel(messages, async (raw) => {
    for (;;) {
      const outcome = await handleWebhookMessage(deps, raw);
      if (outcome === 'ack') break;
      await new Promise((r) => setTimeout(r, outcome.retryInMs));
    }
    acked++;
  });
  return { ms: performance.now() - started, acked, messages: messages.length };
}

/** The same bodies, signed alike, POSTed with the same agent, `PARALLEL` in flight: no log, no read model, no claim. */
export async function rawPosts(
  urls: readonly string[],
  secret: string,
  runSeq: number,
): Promise<{ ms: number; ok: number }> {
  const content: DeliveryContent = {
    kind: 'digest',
    runSeq,
    asOf: '2026-11-03',
    alertsUrl: 'http://localhost:7007/alerts',
    triggers: [
      { base: 'EUR', quote: 'USD', threshold: '1.085', previousRatio: '1.08', currentRatio: '1.09', direction: 'up' },
    ],
  };
  const at = new Date();
  const prepared = urls.map((url, i) => {
    const body = messageBody('json', content, at);
    return { url, body, headers: signedHeaders(secret, `raw_${runSeq}_${i}`, at, body) };
  });
  let ok = 0;
  const started = performance.now();
  await inParallel(prepared, async ({ url, body, headers }) => {
    const result = await guardedPost(agent, policy, url, body, headers);
    if (result.answered && result.status < 300) ok++;
  });
  return { ms: performance.now() - started, ok };
}

export async function stop(): Promise<void> {
  await agent.close();
  await connected?.close();
}
