import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { freePort } from '../../platform/embedded.ts';
import { UnstorableMessageError } from '../../platform/eventStore/index.ts';
import {
  dueEmails,
  expectEachAcknowledgedCommandOnce,
  expectReadModelsEqualCleanRebuild,
  readLog,
} from './support/invariants.ts';
import { openLab, sleep, waitUntil, type Lab } from './support/lab.ts';
import { startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES, type TestUser } from './support/traffic.ts';

// Fault: a digest bigger than the server's max_payload. It can never be stored: parked, counted and logged once,
// while the other users of the run get their digests; never retried every 5 s forever.
const MAX_PAYLOAD = 4_096;
const PARKED = 'parked a digest that can never be stored; the run goes on without it';
let lab: Lab;
let system: ServiceProcess;
let site: string;
let ledger: CommandLedger;
let heavy: TestUser;
let others: TestUser[];

beforeAll(async () => {
  lab = await openLab({ natsMaxPayload: MAX_PAYLOAD });
  const port = await freePort();
  site = `http://127.0.0.1:${port}`;
  system = await startServices(['web', 'command', 'projector', 'notifier'], lab.env({ PORT: String(port) }), 'all');
  ledger = new CommandLedger(lab.send);
  const users = await registerUsers(lab, ledger, 3);
  heavy = users[0]!;
  others = users.slice(1);
  // Alerts are set on the currencies of the latest run that the read models know of: the first run comes first.
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  // 30 alerts that all cross at once: their triggers and the claim make one message of about 6 kB.
  for (let i = 0; i < 30; i++) {
    const alert = {
      userId: heavy.userId,
      alertId: `heavy${i}`,
      base: 'EUR',
      quote: 'USD',
      threshold: `1.1${String(i).padStart(2, '0')}`,
    };
    expect((await ledger.send('SetAlert', alert)).ok).toBe(true);
  }
  for (const [i, u] of others.entries())
    expect(
      (
        await ledger.send('SetAlert', {
          userId: u.userId,
          alertId: `light${i}`,
          base: 'EUR',
          quote: 'USD',
          threshold: '1.05',
        })
      ).ok,
    ).toBe(true);
}, 90_000);

afterAll(async () => {
  await system?.stop();
  await lab?.close();
}, 30_000);

const parkedMetric = (text: string) =>
  Number(/^cra_parked_events_total\{consumer="notifier"\} (\d+)$/m.exec(text)?.[1] ?? 0);

describe('a digest bigger than the server takes', () => {
  it('is parked with its reason, counted and logged once, and the run goes on: the other users get theirs', async () => {
    const { seq: run } = await lab.publishRun('run-2', RUN_RATES[1]);
    const digestOf = (u: TestUser) =>
      lab.mail.accepted.filter((e) => e.to.includes(u.email) && e.messageId.startsWith(`<digest.${run}.`));
    await lab.mail.waitFor(() => others.every((u) => digestOf(u).length === 1), 30_000, 'the digests that fit');

    const line = await system.waitForLog((l) => l.msg === PARKED, 20_000, 'the parked digest');
    expect(line).toMatchObject({
      seq: run,
      userId: heavy.userId,
      triggers: 30,
      reason: expect.stringMatching(/can never be stored: 'payload' max_payload size exceeded/),
    });
    // Acknowledged, not retried: the consumer is done, and stays quiet past the 5 s a retry would take.
    await lab.settle({ timeoutMs: 30_000 });
    await sleep(6_000);
    expect(system.logs().filter((l) => l.msg === PARKED)).toHaveLength(1);
    expect(system.logs().filter((l) => l.msg === 'notifier will retry this event')).toEqual([]);
    expect(system.logs().find((l) => l.msg === 'run notified' && l.seq === run)).toMatchObject({
      users: 3,
      emailed: 2,
      parked: 1,
    });
    expect(parkedMetric(await (await fetch(`${site}/metrics`)).text())).toBe(1);

    // Nothing half-written for the parked user: no triggers, no claim, no email; every other due email once.
    const log = await readLog(lab.store);
    expect(log.filter((m) => m.subject === subjects.digest(lab.ns, run, heavy.userId))).toEqual([]);
    expect(
      log.flatMap((m) => m.events).filter((e) => e.type === 'AlertTriggered' && e.data.userId === heavy.userId),
    ).toEqual([]);
    expect(digestOf(heavy)).toEqual([]);
    const due = dueEmails(log).due.map((d) => d.messageId);
    const received = lab.mail.accepted.map((e) => e.messageId);
    expect(due.filter((id) => !received.includes(id))).toEqual([`<digest.${run}.${heavy.userId}@cra.test>`]);
    expect(received.filter((id) => !due.includes(id))).toEqual([]);
    expect(new Set(received).size).toBe(received.length);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    await expectReadModelsEqualCleanRebuild(lab);
    await waitUntil(async () => (await fetch(`${site}/healthz`)).status === 200, 5_000, 'the web to be healthy');
  }, 120_000);

  it('a run of rates bigger than the server takes is refused at once, not offered again for 15 minutes', async () => {
    const codes = Array.from({ length: 200 }, (_, i) =>
      String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26), 90),
    );
    const rates = Object.fromEntries(codes.map((c) => [c, `1.${'1'.repeat(30)}`]));
    const started = Date.now();
    await expect(lab.publishRun('run-huge', rates)).rejects.toBeInstanceOf(UnstorableMessageError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
