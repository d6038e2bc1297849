import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects, type EventOf } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../webhookReceiver.ts';
import { readLog } from './support/invariants.ts';
import { openLab, sleep, type Lab } from './support/lab.ts';
import { ProjectorProcess } from './support/projector.ts';
import { spawnFixture, startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES, type TestUser } from './support/traffic.ts';

// Faults of webhook delivery: the deliverer killed (SIGKILL) between sending and recording, and two deliverers on the
// same run. The guarantee: one delivery per (run, channel) is recorded as delivered, and a receiver sees a delivery's
// webhook id again at most once (after a kill between send and record), never a second one of two live instances.
let lab: Lab;
let backend: ServiceProcess;
let projector: ProjectorProcess;
let notifier: ServiceProcess;
const deliverers: ServiceProcess[] = [];
let receiver: WebhookReceiver;
let ledger: CommandLedger;
let users: TestUser[];
/** While set, the receiver never answers: a request stays in flight, sent and received but not yet answered. */
let hang = false;

const ACK_WAIT_MS = '2500';
const startDeliverer = async (instance: string) => {
  const env = lab.env({ ACK_WAIT_MS, INSTANCE: instance, WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true' });
  const deliverer = spawnFixture('test/faults/fixtures/webhookProcess.ts', env, instance);
  await deliverer.waitForLog((l) => l.msg === 'started', 30_000, '"started"');
  deliverers.push(deliverer);
  return deliverer;
};

beforeAll(async () => {
  lab = await openLab();
  receiver = await startWebhookReceiver(() => (hang ? 'hang' : { status: 200 }));
  projector = new ProjectorProcess(lab);
  notifier = spawnFixture('test/faults/fixtures/notifierProcess.ts', lab.env({ ACK_WAIT_MS }), 'notifier');
  [backend] = await Promise.all([
    startServices(['command'], lab.env(), 'command'),
    projector.start(),
    notifier.waitForLog((l) => l.msg === 'started', 30_000, '"started"'),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 2);
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  for (const [i, u] of users.entries()) {
    const channel = await lab.send('AddChannel', {
      userId: u.userId,
      channelId: `chan${i}`,
      url: `${receiver.url}/user${i}`,
      format: 'json',
    });
    expect(channel.ok).toBe(true);
    // EUR/USD 0.98 → 1.22 → 0.98: every run after the first crosses 1.1.
    const alert = { userId: u.userId, alertId: `alert${i}`, base: 'EUR', quote: 'USD', threshold: '1.1' };
    const set = await ledger.send('SetAlert', alert);
    expect(set.ok).toBe(true);
    await waitForProjection(lab.pool, lab.schema, set.ok ? set.seq : 0, 5_000);
  }
}, 90_000);

afterAll(async () => {
  await Promise.all([backend?.stop(), notifier?.stop(), projector?.stop(), ...deliverers.map((d) => d.stop())]);
  await receiver?.close();
  await lab?.close();
}, 30_000);

const attemptsIn = async (reference: string, channelId: string) =>
  (await readLog(lab.store))
    .filter((m) => m.subject === subjects.delivery(lab.ns, reference, channelId))
    .flatMap((m) => m.events)
    .filter((e): e is EventOf<'WebhookAttempted'> => e.type === 'WebhookAttempted')
    .map((e) => e.data);
const idsAt = (path: string) => receiver.to(path).map((h) => h.headers['webhook-id']);

describe('webhook delivery under faults', () => {
  it('killed between sending and recording: after a restart the delivery is recorded once, its id seen again at most once', async () => {
    const deliverer = await startDeliverer('killed');
    const before = receiver.received.length;
    hang = true;
    const { seq: runSeq } = await lab.publishRun('run-2', RUN_RATES[1]);
    // A request reached the receiver, which holds its answer: the deliverer sent it and dies before it can record it.
    await receiver.waitFor((all) => all.length > before, 30_000);
    deliverer.kill('SIGKILL');
    await deliverer.exited;
    hang = false;
    const sentBeforeKill = receiver.received.slice(before).map((h) => h.headers['webhook-id']);
    expect(sentBeforeKill.length).toBeGreaterThan(0);

    await startDeliverer('after-kill');
    await receiver.waitFor(() => users.every((_, i) => idsAt(`/user${i}`).length >= 1), 30_000);
    for (const [i] of users.entries()) {
      const attempts = await (async () => {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const found = await attemptsIn(String(runSeq), `chan${i}`);
          if (found.some((a) => a.outcome === 'delivered') || Date.now() > deadline) return found;
          await sleep(100);
        }
      })();
      expect(attempts.filter((a) => a.outcome === 'delivered')).toHaveLength(1);
      const ids = idsAt(`/user${i}`);
      // One id per delivery; seen twice only if the kill fell between its send and its record.
      expect(new Set(ids)).toEqual(new Set([`msg_${runSeq}_chan${i}`]));
      expect(ids.length).toBeLessThanOrEqual(sentBeforeKill.includes(`msg_${runSeq}_chan${i}`) ? 2 : 1);
    }
  }, 90_000);

  it('two deliverers on the same run: exactly one delivery per (run, channel) reaches the receiver', async () => {
    await startDeliverer('second');
    const before = new Map(users.map((_, i) => [i, idsAt(`/user${i}`).length]));
    const { seq: runSeq } = await lab.publishRun('run-3', RUN_RATES[0]);
    await receiver.waitFor(() => users.every((_, i) => idsAt(`/user${i}`).length > before.get(i)!), 30_000);
    await sleep(4_000); // past an ack wait: a second delivery would have come by now
    for (const [i] of users.entries()) {
      expect(idsAt(`/user${i}`).filter((id) => id === `msg_${runSeq}_chan${i}`)).toHaveLength(1);
      expect((await attemptsIn(String(runSeq), `chan${i}`)).filter((a) => a.outcome === 'delivered')).toHaveLength(1);
    }
  }, 90_000);
});
