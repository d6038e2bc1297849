import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer, type Mailer } from '../../platform/mailer.ts';
import { projectedRun } from '../../test/runs.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredUser } from '../../test/testUsers.ts';
import type { RunOutcome } from './digests.ts';
import type { startNotifier } from './main.ts';

// Two notifier instances and one day's run: the instance that takes the run from the log announces it, the other
// helps from the other end of the run's users, and every user still gets exactly one digest.
const USERS = 40;
let system: TestSystem;
let mailer: Mailer;
const outcomes = new Map<string, RunOutcome[]>();
const instances: ReturnType<typeof startNotifier>[] = [];

beforeAll(async () => {
  system = await startTestSystem({ notifier: false });
  const smtp = createMailer({ smtpUrl: system.smtp.url, from: 'CRA <alerts@cra.test>' });
  // A mail server that takes 20 ms an email, as real ones do: a run of 40 digests lasts long enough to be shared.
  mailer = { send: async (e) => (await new Promise((r) => setTimeout(r, 20)), smtp.send(e)), close: smtp.close };
  for (const instanceId of ['notifier-a', 'notifier-b']) {
    outcomes.set(instanceId, []);
    instances.push(
      system.anotherNotifier({
        mailer,
        instanceId,
        hooks: { onRun: (_, outcome) => outcomes.get(instanceId)!.push(outcome) },
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  for (const n of instances) await n.stop();
  mailer?.close();
  await system?.close();
});

describe('a run shared by the notifier instances', () => {
  it('is worked by both, from the two ends, and each user gets one digest', async () => {
    await projectedRun(system.world, '2026-03-02', { USD: '1.00' });
    const users = await Promise.all(
      Array.from({ length: USERS }, (_, i) => registeredUser(system, `sharer${i}`, 'a long enough password')),
    );
    for (const [i, userId] of users.entries()) {
      const reply = await system.send('SetAlert', {
        userId,
        alertId: `share${i}`,
        base: 'EUR',
        quote: 'USD',
        threshold: '1.05',
      });
      expect(reply.ok).toBe(true);
    }
    await projectedRun(system.world, '2026-03-03', { USD: '1.10' });
    const digests = () => system.smtp.received.filter((e) => /EUR\/USD/.test(e.subject ?? ''));
    const deadline = Date.now() + 30_000;
    while (digests().length < USERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500)); // anything sent twice would arrive by now
    const sent = digests();
    expect(sent).toHaveLength(USERS);
    expect(new Set(sent.map((e) => e.to)).size).toBe(USERS);
    const emailed = [...outcomes.values()].map((list) => list.reduce((n, o) => n + o.emailed, 0));
    expect(emailed.reduce((a, b) => a + b, 0)).toBe(USERS);
    expect(Math.min(...emailed), `emailed by each instance: ${emailed.join(', ')}`).toBeGreaterThan(0);
  }, 60_000);
});
