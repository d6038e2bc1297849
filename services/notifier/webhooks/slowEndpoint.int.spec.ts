import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForProjection } from '../../../platform/projectionWait.ts';
import { projectedRun } from '../../../test/runs.ts';
import { startTestSystem, type TestSystem } from '../../../test/system.ts';
import { registeredUser } from '../../../test/testUsers.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../../test/webhookReceiver.ts';

// An endpoint that never answers (until the request's 8 s bound), for more users than the deliverer works on at once,
// holds up neither the emails of its run nor the webhooks of other users on other hosts: it gets its host's slots.
const PASSWORD = 'correct horse battery';
const STUCK_USERS = 40;
let stuck: WebhookReceiver;
let quick: WebhookReceiver;
let system: TestSystem;
beforeAll(async () => {
  stuck = await startWebhookReceiver(() => 'hang');
  quick = await startWebhookReceiver();
  system = await startTestSystem({ webhooks: { limits: { connectMs: 1_000, totalMs: 8_000 } } });
  await projectedRun(system.world, '2026-11-01', { USD: '1.0' });
});
afterAll(async () => {
  await system?.close();
  await stuck?.close();
  await quick?.close();
});

async function userWithChannel(name: string, url: string): Promise<void> {
  const userId = await registeredUser(system, name, PASSWORD);
  const added = await system.send('AddChannel', { userId, channelId: `c${name}`, url, format: 'slack' });
  const alert = await system.send('SetAlert', {
    userId,
    alertId: `a${name}`,
    base: 'EUR',
    quote: 'USD',
    threshold: '1.1',
  });
  if (!added.ok || !alert.ok) throw new Error('setup refused');
  await waitForProjection(system.world.pool, system.world.schema, Math.max(added.seq, alert.seq), 5_000);
}

describe('a slow endpoint', () => {
  it(`of ${STUCK_USERS} users delays neither any digest email nor another host's webhook`, async () => {
    for (let i = 0; i < STUCK_USERS; i++) await userWithChannel(`stuck${i}`, `${stuck.url}/hook${i}`);
    await userWithChannel('quick', `${quick.url}/hook`);
    const started = Date.now();
    await projectedRun(system.world, '2026-11-02', { USD: '1.2' });

    await quick.waitFor((all) => all.length === 1, 5_000);
    const quickAfter = Date.now() - started;
    await system.smtp.waitFor((all) => all.filter((m) => /crossed/i.test(m.subject)).length === STUCK_USERS + 1, 5_000);
    const emailsAfter = Date.now() - started;
    // The stuck endpoint holds its host's slots (8 sending, 8 waiting), not the deliverer: it is still hanging now.
    expect(stuck.received.length).toBeGreaterThan(0);
    expect(stuck.received.length).toBeLessThanOrEqual(8);
    expect(quickAfter).toBeLessThan(5_000);
    expect(emailsAfter).toBeLessThan(5_000);
  }, 60_000);
});
