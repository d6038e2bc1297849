import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header, subjects } from '../../events/index.ts';
import { noRows, rowsOfUser } from '../readModelRows.ts';
import { expectNoSecretsIn, expectReadModelsEqualCleanRebuild, logText, readLog } from './support/invariants.ts';
import { openLab, sleep, waitUntil, type Lab } from './support/lab.ts';
import type { AcceptedEmail } from './support/mailServer.ts';
import { ProjectorProcess } from './support/projector.ts';
import { spawnFixture, startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES, type TestUser } from './support/traffic.ts';

// Fault: the notifier killed (SIGKILL) in the middle of a digest (its triggers and its claim recorded, the email not
// sent), the person then erased while the read models still show them (the projector stopped), the notifier restarted.
// The promise: nothing is sent to them after the erasure but the one confirmation, which goes before anything is
// destroyed and once, even when the notifier is killed after sending it and before acknowledging the erasure.
let lab: Lab;
let backend: ServiceProcess;
let projector: ProjectorProcess;
let notifier: ServiceProcess;
let ledger: CommandLedger;
let gone: TestUser;
let stays: TestUser;
const outputs: string[] = [];
const ERASED_SUBJECT = 'Your Currency Ratio Alerter account was deleted';
const ERASURE_DONE = 'account erased: confirmation handled, nothing of it left to the notifier';

const startNotifier = async () => {
  notifier = spawnFixture('test/faults/fixtures/notifierProcess.ts', lab.env({ ACK_WAIT_MS: '2500' }), 'notifier');
  await notifier.waitForLog((l) => l.msg === 'started', 30_000, '"started"');
};
const killNotifier = async () => {
  notifier.kill('SIGKILL');
  await notifier.exited;
  outputs.push(notifier.output.join('\n'));
};
const mailTo = (user: TestUser) => lab.mail.accepted.filter((e) => e.to.includes(user.email));
const isDigest = (e: AcceptedEmail) => e.messageId.startsWith('<digest.');

beforeAll(async () => {
  lab = await openLab();
  projector = new ProjectorProcess(lab);
  [backend] = await Promise.all([startServices(['command'], lab.env(), 'command'), projector.start(), startNotifier()]);
  ledger = new CommandLedger(lab.send);
  [gone, stays] = (await registerUsers(lab, ledger, 2, 'erasee')) as [TestUser, TestUser];
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  // EUR/USD goes from 0.98 to 1.22 in the next run: both alerts cross.
  for (const [i, u] of [gone, stays].entries())
    expect(
      (
        await ledger.send('SetAlert', {
          userId: u.userId,
          alertId: `alert-${i}`,
          base: 'EUR',
          quote: 'USD',
          threshold: '1.1',
        })
      ).ok,
    ).toBe(true);
  await lab.projectorReaches(await lab.store.lastSeq());
}, 90_000);

afterAll(async () => {
  await Promise.all([backend?.stop(), notifier?.stop(), projector?.stop()]);
  await lab?.close();
}, 30_000);

describe('an erasure and a digest under way', () => {
  it('killed mid-digest, the person erased while the read models still show them: after a restart nothing is sent to them but the confirmation', async () => {
    // The digests are claimed and their triggers recorded, but the mail server is down: nothing goes.
    await lab.mail.down();
    const { seq: run } = await lab.publishRun('run-2', RUN_RATES[1]);
    const claimed = async (user: TestUser) =>
      (await readLog(lab.store)).some(
        (m) =>
          m.subject === subjects.digest(lab.ns, run, user.userId) && m.events.some((e) => e.type === 'EmailClaimed'),
      );
    await waitUntil(async () => (await claimed(gone)) && (await claimed(stays)), 30_000, 'both digests claimed');
    await killNotifier();

    // The read models keep showing the person: the projector is stopped before the erasure.
    await projector.stop();
    const erased = await ledger.send('EraseAccount', { userId: gone.userId });
    expect(erased.ok).toBe(true);
    const erasedAt = erased.ok ? erased.seq : 0;
    expect((await rowsOfUser(lab.pool, lab.schema, gone.userId)).alerts).toBe(1);

    await lab.mail.up();
    await startNotifier();
    // The erased person gets their confirmation, with the projector still stopped. A run waits for the projector to
    // reach the end of the log before it is matched (a once alert's trigger recorded late must count, docs/design.md
    // §4b), so the digests wait for it too.
    await lab.mail.waitFor(
      (m) => m.some((e) => e.to.includes(gone.email) && e.subject === ERASED_SUBJECT),
      30_000,
      'the confirmation',
    );
    const done = await notifier.waitForLog((l) => l.msg === ERASURE_DONE, 10_000, 'the erasure handled');
    expect(done).toMatchObject({ userId: gone.userId, seq: erasedAt, by: 'operator', confirmation: 'sent' });
    await expect.poll(() => lab.personal.keys.current(gone.userId), { timeout: 5_000 }).toBeUndefined();
    // The confirmation went before anything was destroyed.
    const confirmation = mailTo(gone).find((e) => e.subject === ERASED_SUBJECT)!;
    expect(confirmation.at).toBeLessThanOrEqual(done.time as number);

    // Only once the projector is back does the run go through: the other person's digest goes, and for the erased
    // person it is nothing to send.
    await sleep(3_000);
    expect(mailTo(gone).filter(isDigest)).toEqual([]);
    await projector.start();
    await lab.mail.waitFor(
      (m) => m.some((e) => e.to.includes(stays.email) && isDigest(e)),
      30_000,
      "the other's digest",
    );
    await lab.settle({ timeoutMs: 60_000 });
    await sleep(3_000);

    expect(mailTo(gone).map((e) => e.subject)).toEqual([
      'Confirm your Currency Ratio Alerter registration',
      ERASED_SUBJECT,
    ]);
    expect(mailTo(stays).filter(isDigest)).toHaveLength(1);
    // The digest under way is never resumed: after the erasure, its subject got nothing more.
    const digest = (await readLog(lab.store)).filter((m) => m.subject === subjects.digest(lab.ns, run, gone.userId));
    expect(digest.every((m) => m.seq < erasedAt)).toBe(true);
    expect(digest.flatMap((m) => m.events).some((e) => e.type === 'EmailSent')).toBe(false);
    const rows = await rowsOfUser(lab.pool, lab.schema, gone.userId);
    expect(rows).toEqual(noRows(rows));
    await expectReadModelsEqualCleanRebuild(lab);
  }, 120_000);

  it('killed after sending the confirmation and recording it, before acknowledging the erasure: it is not sent again', async () => {
    let killedOn = '';
    const watch = lab.nc.subscribe(`${lab.ns.events}.>`, {
      callback: (_error, msg) => {
        if (killedOn || msg.headers?.get(Header.type) !== 'EmailSent') return;
        const sent = JSON.parse(msg.string()) as { kind: string; messageId: string };
        if (sent.kind !== 'account-erased') return;
        notifier.kill('SIGKILL');
        killedOn = sent.messageId;
      },
    });
    const erased = await ledger.send('EraseAccount', { userId: stays.userId });
    expect(erased.ok).toBe(true);
    await waitUntil(() => killedOn !== '', 30_000, 'the confirmation recorded');
    watch.unsubscribe();
    const killed = notifier;
    await killNotifier();
    expect(killed.logs().filter((l) => l.msg === ERASURE_DONE && l.userId === stays.userId)).toEqual([]);
    // The erasure was not acknowledged: it comes again to the restarted notifier, which finds the email sent.
    const consumer = await lab.jsm.consumers.info(lab.ns.stream, 'cra-notifier');
    expect(consumer.ack_floor.stream_seq).toBeLessThan(erased.ok ? erased.seq : 0);

    await startNotifier();
    const again = await notifier.waitForLog((l) => l.msg === ERASURE_DONE, 30_000, 'the erasure handled again');
    expect(again).toMatchObject({ userId: stays.userId, confirmation: 'already-sent' });
    // Handled again, whole: the key is destroyed this time, and nothing is left half-erased.
    await expect.poll(() => lab.personal.keys.current(stays.userId), { timeout: 5_000 }).toBeUndefined();
    await lab.settle({ timeoutMs: 30_000 });
    expect(lab.mail.accepted.filter((e) => e.messageId === killedOn)).toHaveLength(1);
    expect(mailTo(stays).filter((e) => e.subject === ERASED_SUBJECT)).toHaveLength(1);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 90_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const output of [...outputs, notifier.output.join('\n'), backend.output.join('\n'), projector.output()])
      expectNoSecretsIn(output, lab.secrets, 'the output of a service');
  });
});
