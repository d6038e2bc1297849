import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { subjects, type EventOf } from '../../../events/index.ts';
import { tablesIn } from '../../../platform/postgres.ts';
import { waitForProjection } from '../../../platform/projectionWait.ts';
import { projectedRun } from '../../../test/runs.ts';
import { startTestSystem, type TestSystem } from '../../../test/system.ts';
import { registeredUser } from '../../../test/testUsers.ts';
import { startWebhookReceiver, type Answering, type WebhookReceiver } from '../../../test/webhookReceiver.ts';
import { guardedAgent } from '../../../platform/webhookHttp/guardedPost.ts';
import type { RawMessage } from '../../../platform/eventStore/index.ts';
import { commandClient } from '../../../platform/commandClient.ts';
import { handleWebhookMessage } from './consumer.ts';
import { HostSlots } from './hostSlots.ts';

const PASSWORD = 'correct horse battery';
/** Each receiver path behaves as one kind of endpoint. */
const behaviour: Record<string, Answering> = {
  '/flaky': (_p, n) => ({ status: n === 1 ? 500 : 200 }),
  '/slow': (_p, n) => (n === 1 ? 'hang' : { status: 200 }),
  '/busy': (_p, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 204 }),
  '/gone': () => ({ status: 410 }),
  '/down': () => ({ status: 503 }),
};
let receiver: WebhookReceiver;
let system: TestSystem;
beforeAll(async () => {
  receiver = await startWebhookReceiver((path, n, hook) => behaviour[path]?.(path, n, hook) ?? { status: 200 });
  system = await startTestSystem({
    webhooks: {
      retry: { baseMs: 300, capMs: 1_000, giveUpAfterMs: 60_000 },
      limits: { connectMs: 1_000, totalMs: 1_000 },
    },
  });
});
afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

let runDay = 1;
/** A run that moves EUR/USD from 1.0 to 1.2 and back: every alert at 1.1 crosses it. */
async function crossingRun() {
  const rate = runDay % 2 === 1 ? '1.2' : '1.0';
  const asOf = `2026-11-${String(++runDay).padStart(2, '0')}`;
  return projectedRun(system.world, asOf, { USD: rate });
}

async function personWithChannels(name: string, channels: { path: string; format: 'json' | 'slack' | 'discord' }[]) {
  const userId = await registeredUser(system, name, PASSWORD);
  const added = [];
  for (const [i, { path, format }] of channels.entries()) {
    const reply = await system.send('AddChannel', {
      userId,
      channelId: `c${name}${i}`,
      url: `${receiver.url}${path}`,
      format,
    });
    if (!reply.ok) throw new Error(reply.message);
    await waitForProjection(system.world.pool, system.world.schema, reply.seq, 5_000);
    added.push({ channelId: `c${name}${i}`, secret: reply.result.secret!, path });
  }
  const reply = await system.send('SetAlert', {
    userId,
    alertId: `a${name}`,
    base: 'EUR',
    quote: 'USD',
    threshold: '1.1',
  });
  if (!reply.ok) throw new Error(reply.message);
  await waitForProjection(system.world.pool, system.world.schema, reply.seq, 5_000);
  return { userId, channels: added };
}

const attemptsOf = async (reference: string, channelId: string) =>
  (await system.world.store.load(subjects.delivery(system.world.ns, reference, channelId))).history
    .flatMap((h) => h.events)
    .filter((e): e is EventOf<'WebhookAttempted'> => e.type === 'WebhookAttempted')
    .map((e) => e.data);

const channelRow = async (channelId: string) =>
  (
    await system.world.pool.query<{ status: string; paused_for: string | null; last_outcome: string | null }>(
      `SELECT status, paused_for, last_outcome FROM ${tablesIn(system.world.schema)('channels')} WHERE channel_id = $1`,
      [channelId],
    )
  ).rows[0];

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  await projectedRun(system.world, '2026-11-01', { USD: '1.0' });
});

describe('a run goes to every channel that is on, with the digest’s content', () => {
  it('Slack and Discord get their documented bodies; a json endpoint verifies the signature with the standard’s own library', async () => {
    const { channels } = await personWithChannels('hookada', [
      { path: '/ada/slack', format: 'slack' },
      { path: '/ada/discord', format: 'discord' },
      { path: '/ada/json', format: 'json' },
    ]);
    const runSeq = await crossingRun();
    await receiver.waitFor(() => ['slack', 'discord', 'json'].every((f) => receiver.to(`/ada/${f}`).length === 1));

    const slack = JSON.parse(receiver.to('/ada/slack')[0]!.body) as {
      text: string;
      blocks: { text?: { text: string } }[];
    };
    expect(slack.text).toMatch(/1 alert crossed/);
    expect(slack.blocks[0]!.text!.text).toContain('EUR/USD crossed 1.1 upward');
    const discord = JSON.parse(receiver.to('/ada/discord')[0]!.body) as { content: string; allowed_mentions: object };
    expect(discord.content).toContain('EUR/USD crossed 1.1 upward ↑: 1 → 1.2');
    expect(discord.allowed_mentions).toEqual({ parse: [] });

    const hook = receiver.to('/ada/json')[0]!;
    const secret = channels[2]!.secret;
    expect(secret).toMatch(/^whsec_/);
    const verified = new Webhook(secret).verify(hook.body, hook.headers as Record<string, string>) as {
      type: string;
      version: number;
      data: { runSeq: number; triggers: { pair: string; threshold: string; direction: string }[] };
    };
    expect(verified).toMatchObject({ type: 'alerts.digest', version: 1, data: { runSeq } });
    expect(verified.data.triggers).toEqual([
      expect.objectContaining({ pair: 'EUR/USD', threshold: '1.1', direction: 'up' }),
    ]);
    expect(hook.headers['webhook-id']).toBe(`msg_${runSeq}_${channels[2]!.channelId}`);
    // Signed with another secret, or tampered with, it does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`).verify(
        hook.body,
        hook.headers as Record<string, string>,
      ),
    ).toThrow();
    expect(() =>
      new Webhook(secret).verify(hook.body.replace('1.1', '1.3'), hook.headers as Record<string, string>),
    ).toThrow();
    // Slack and Discord messages are not signed: the URL is their credential.
    expect(receiver.to('/ada/slack')[0]!.headers['webhook-signature']).toBeUndefined();
    // Each delivery recorded as delivered, once.
    for (const { channelId } of channels)
      expect(await attemptsOf(String(runSeq), channelId)).toEqual([
        expect.objectContaining({ outcome: 'delivered', attempt: 1 }),
      ]);
  });

  it('a paused channel gets nothing; resumed, it gets the next run', async () => {
    const { userId, channels } = await personWithChannels('hookbob', [{ path: '/bob', format: 'json' }]);
    const channelId = channels[0]!.channelId;
    const paused = await system.send('PauseChannel', { userId, channelId, reason: 'owner' });
    await waitForProjection(system.world.pool, system.world.schema, paused.ok ? paused.seq : 0, 5_000);
    const pausedRun = await crossingRun();
    const resumed = await system.send('ResumeChannel', { userId, channelId });
    await waitForProjection(system.world.pool, system.world.schema, resumed.ok ? resumed.seq : 0, 5_000);
    const nextRun = await crossingRun();
    await receiver.waitFor(() => receiver.to('/bob').length === 1);
    expect(JSON.parse(receiver.to('/bob')[0]!.body)).toMatchObject({ data: { runSeq: nextRun } });
    expect(await attemptsOf(String(pausedRun), channelId)).toEqual([]);
  });

  it('a test message goes at once to the channel it was asked for', async () => {
    const { userId, channels } = await personWithChannels('hooktest', [{ path: '/test-me', format: 'json' }]);
    const reply = await system.send('TestChannel', { userId, channelId: channels[0]!.channelId, testId: 'tx1' });
    expect(reply.ok).toBe(true);
    const [hook] = await receiver
      .waitFor(() => receiver.to('/test-me').length === 1)
      .then(() => receiver.to('/test-me'));
    expect(new Webhook(channels[0]!.secret).verify(hook!.body, hook!.headers as Record<string, string>)).toMatchObject({
      type: 'channel.test',
    });
    await until(
      () => channelRow(channels[0]!.channelId),
      (row) => row?.last_outcome === 'delivered',
    );
  });
});

describe('failures are retried with backoff, counted once, and a channel that keeps failing is paused', () => {
  it('500 then 200: delivered on the second attempt, under the same webhook id, and counted once', async () => {
    const { channels } = await personWithChannels('hookflaky', [{ path: '/flaky', format: 'json' }]);
    const runSeq = await crossingRun();
    await receiver.waitFor(() => receiver.to('/flaky').length === 2);
    const [first, second] = receiver.to('/flaky');
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(
      new Webhook(channels[0]!.secret).verify(second!.body, second!.headers as Record<string, string>),
    ).toBeTruthy();
    const attempts = await until(
      () => attemptsOf(String(runSeq), channels[0]!.channelId),
      (a) => a.length === 2,
    );
    expect(attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 500],
      ['delivered', 200],
    ]);
    expect(attempts[0]!.retryAt).toBeDefined();
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.to('/flaky')).toHaveLength(2);
    // Each attempt is a line of its owner's Activity page.
    const lines = await until(
      async () =>
        (
          await system.world.pool.query<{ summary: string }>(
            `SELECT summary FROM ${tablesIn(system.world.schema)('activity')} WHERE type = 'WebhookAttempted' AND summary LIKE $1 ORDER BY seq`,
            [`Run ${runSeq} message to channel ${channels[0]!.channelId.slice(0, 9)}%`],
          )
        ).rows.map((r) => r.summary),
      (rows) => rows.length === 2,
    );
    expect(lines).toEqual([
      expect.stringMatching(/attempt 1: failed, will retry \(HTTP 500\)$/),
      expect.stringMatching(/attempt 2: delivered \(HTTP 200\)$/),
    ]);
  });

  it('a timeout is retried; 429 waits as long as Retry-After asks', async () => {
    const { channels } = await personWithChannels('hookslow', [
      { path: '/slow', format: 'slack' },
      { path: '/busy', format: 'discord' },
    ]);
    const runSeq = await crossingRun();
    await receiver.waitFor(() => receiver.to('/slow').length === 2 && receiver.to('/busy').length === 2, 20_000);
    const slow = await until(
      () => attemptsOf(String(runSeq), channels[0]!.channelId),
      (a) => a.length === 2,
    );
    expect(slow.map((a) => [a.outcome, a.detail])).toEqual([
      ['retry', 'timed out'],
      ['delivered', 'HTTP 200'],
    ]);
    const [first, second] = receiver.to('/busy');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
    const busy = await until(
      () => attemptsOf(String(runSeq), channels[1]!.channelId),
      (a) => a.length === 2,
    );
    expect(busy.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 429],
      ['delivered', 204],
    ]);
  });

  it('a channel deleted while its delivery waits for a retry is not tried again', async () => {
    const { userId, channels } = await personWithChannels('hookdown', [{ path: '/down', format: 'discord' }]);
    const runSeq = await crossingRun();
    await until(
      () => attemptsOf(String(runSeq), channels[0]!.channelId),
      (a) => a.length >= 1,
    );
    const deleted = await system.send('DeleteChannel', { userId, channelId: channels[0]!.channelId });
    await waitForProjection(system.world.pool, system.world.schema, deleted.ok ? deleted.seq : 0, 5_000);
    const sent = receiver.to('/down').length;
    await new Promise((r) => setTimeout(r, 2_500)); // past several backoffs of this spec's policy
    expect(receiver.to('/down').length).toBeLessThanOrEqual(sent + 1); // at most one already under way
    const settled = receiver.to('/down').length;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.to('/down')).toHaveLength(settled);
  });

  it('leaves room for many deliveries waiting on their retry: a day-long outage of one endpoint stalls no other', async () => {
    const jsm = await jetstreamManager(system.world.nc);
    const webhooks = await jsm.consumers.info(system.world.ns.stream, 'cra-webhooks');
    const emails = await jsm.consumers.info(system.world.ns.stream, 'cra-notifier');
    expect(webhooks.config.max_ack_pending).toBe(10_000);
    expect(emails.config.max_ack_pending).toBe(64);
  });

  it('410 is not retried: the channel is paused as failing and its owner is emailed', async () => {
    const { channels } = await personWithChannels('hookgone', [{ path: '/gone', format: 'json' }]);
    const channelId = channels[0]!.channelId;
    const runSeq = await crossingRun();
    await until(
      () => channelRow(channelId),
      (row) => row?.status === 'paused',
    );
    expect(await channelRow(channelId)).toMatchObject({ paused_for: 'failing', last_outcome: 'rejected' });
    expect(await attemptsOf(String(runSeq), channelId)).toEqual([
      expect.objectContaining({ outcome: 'rejected', status: 410 }),
    ]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.to('/gone')).toHaveLength(1);
    await system.smtp.waitFor((all) =>
      all.some((m) => m.to.includes('hookgone@example.test') && /channel/i.test(m.subject)),
    );
  });
});

describe('several deliverers on one message', () => {
  it('of three instances handling the same digest at once, exactly one sends it; the others find it claimed or done', async () => {
    await personWithChannels('hookrace', [{ path: '/race', format: 'json' }]);
    const runSeq = await crossingRun();
    const userId = (
      await system.world.pool.query<{ user_id: string }>(
        `SELECT user_id FROM ${tablesIn(system.world.schema)('channels')} WHERE channel_id = 'chookrace0'`,
      )
    ).rows[0]!.user_id;
    const digestSubject = subjects.digest(system.world.ns, runSeq, userId);
    let digest: RawMessage | undefined;
    for (
      const deadline = Date.now() + 10_000;
      !digest && Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 50))
    )
      for await (const raw of system.world.store.read({ fromSeq: runSeq }))
        if (raw.subject === digestSubject) digest = raw;
    const policy = { allowHttp: true, allowPrivate: true };
    const agent = guardedAgent(policy);
    const instance = (instanceId: string) =>
      handleWebhookMessage(
        {
          store: system.world.store,
          personal: system.world.personal,
          ns: system.world.ns,
          pool: system.world.pool,
          schema: system.world.schema,
          publicUrl: 'http://localhost:7007',
          send: commandClient(system.world.nc, system.world.ns),
          policy,
          agent,
          hosts: new HostSlots(2),
          now: () => new Date(),
          instanceId,
          claimMs: 60_000,
          logger: system.world.logger,
        },
        digest!,
      );
    // The system's own deliverer is at it too: three instances on one (run, channel).
    await Promise.all([instance('racer-a'), instance('racer-b')]);
    await agent.close();
    await receiver.waitFor(() => receiver.to('/race').length === 1);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.to('/race')).toHaveLength(1);
    expect((await attemptsOf(String(runSeq), 'chookrace0')).filter((a) => a.outcome === 'delivered')).toHaveLength(1);
  });
});
