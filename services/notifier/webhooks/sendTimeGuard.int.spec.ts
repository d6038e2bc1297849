import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects, type EventOf } from '../../../events/index.ts';
import { tablesIn } from '../../../platform/postgres.ts';
import { waitForProjection } from '../../../platform/projectionWait.ts';
import { printEvents } from '../../../cli/events.ts';
import { projectedRun } from '../../../test/runs.ts';
import { startTestSystem, type TestSystem } from '../../../test/system.ts';
import { registeredUser } from '../../../test/testUsers.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/webhookReceiver.ts';

// The SSRF rules hold at send time too, whatever was saved: here a deployment with the strict policy (the default) and
// channels that lead to this machine, added by command (the web would have refused them at save time).
let receiver: WebhookReceiver;
let system: TestSystem;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  system = await startTestSystem({ webhooks: { policy: { allowHttp: false, allowPrivate: false } } });
  await projectedRun(system.world, '2026-11-01', { USD: '1.0' });
});
afterAll(async () => {
  await system?.close();
  await receiver?.close();
});

describe('a channel that leads to a private address, under the strict policy', () => {
  it('is never connected to: its run delivery is refused with the reason, and the channel paused as failing', async () => {
    const userId = await registeredUser(system, 'ssrfsend', 'correct horse battery');
    const port = new URL(receiver.url).port;
    const targets = [
      `https://127.0.0.1:${port}/a`,
      `https://[::ffff:127.0.0.1]:${port}/b`,
      `https://2130706433:${port}/c`,
      `https://localhost:${port}/d`,
      `http://example.com/e`,
    ];
    for (const [i, url] of targets.entries()) {
      const added = await system.send('AddChannel', { userId, channelId: `cssrf${i}`, url, format: 'json' });
      expect(added.ok).toBe(true);
    }
    const alert = await system.send('SetAlert', {
      userId,
      alertId: 'assrf',
      base: 'EUR',
      quote: 'USD',
      threshold: '1.1',
    });
    await waitForProjection(system.world.pool, system.world.schema, alert.ok ? alert.seq : 0, 5_000);
    const runSeq = await projectedRun(system.world, '2026-11-02', { USD: '1.2' });

    const refusal = async (channelId: string) => {
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        const attempts = (
          await system.world.store.load(subjects.delivery(system.world.ns, String(runSeq), channelId))
        ).history
          .flatMap((h) => h.events)
          .filter((e): e is EventOf<'WebhookAttempted'> => e.type === 'WebhookAttempted');
        if (attempts.length > 0) return attempts.map((a) => [a.data.outcome, a.data.detail]);
      }
      throw new Error(`no attempt on ${channelId}`);
    };
    expect(await refusal('cssrf0')).toEqual([
      ['rejected', expect.stringMatching(/127\.0\.0\.1 is in the loopback range/)],
    ]);
    expect(await refusal('cssrf1')).toEqual([['rejected', expect.stringMatching(/loopback/)]]);
    expect(await refusal('cssrf2')).toEqual([['rejected', expect.stringMatching(/loopback/)]]);
    expect(await refusal('cssrf3')).toEqual([['rejected', expect.stringMatching(/public internet/)]]);
    expect(await refusal('cssrf4')).toEqual([['rejected', 'Use an https:// URL']]);
    expect(receiver.received).toEqual([]);
    const statuses = async () =>
      (
        await system.world.pool.query<{ status: string; paused_for: string | null }>(
          `SELECT status, paused_for FROM ${tablesIn(system.world.schema)('channels')} WHERE user_id = $1`,
          [userId],
        )
      ).rows;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50)))
      if ((await statuses()).every((r) => r.status === 'paused')) break;
    expect(await statuses()).toEqual(targets.map(() => ({ status: 'paused', paused_for: 'failing' })));

    // `cra events` shows each attempt with its outcome, the URL opened for the operator, never the signing secret.
    const lines: string[] = [];
    await printEvents(system.world.store, system.world.personal, { since: 1, userId, out: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('\tWebhookAttempted\t') && l.includes('"outcome":"rejected"'))).toHaveLength(
      5,
    );
    expect(lines.find((l) => l.includes('\tChannelAdded\t'))).toContain('127.0.0.1');
    expect(lines.join('\n')).not.toMatch(/whsec_|"secret"/);
  });
});
