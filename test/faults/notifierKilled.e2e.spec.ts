import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Header, type EventOf } from '../../events/index.ts';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectNoSecretsIn,
  expectReadModelsEqualCleanRebuild,
  logText,
  readLog,
} from './support/invariants.ts';
import { openLab, sleep, type Lab } from './support/lab.ts';
import { ProjectorProcess } from './support/projector.ts';
import { spawnFixture, startServices, type ServiceProcess } from './support/services.ts';
import {
  CommandLedger,
  newUser,
  randomAlert,
  registerUsers,
  RUN_RATES,
  startTraffic,
  type TestUser,
} from './support/traffic.ts';

// Fault: the notifier killed (SIGKILL) between sending an email and recording it, and between recording it and
// acknowledging the message that asked for it. The documented guarantee: the log records each EmailSent once; a crash
// between send and record may resend, and the resend carries the same (deterministic) Message-ID.
let lab: Lab;
let backend: ServiceProcess;
let projector: ProjectorProcess;
let notifier: ServiceProcess;
let ledger: CommandLedger;
let users: TestUser[];
let traffic: ReturnType<typeof startTraffic>;
const outputs: string[] = [];
/** Emails a kill left sent but unrecorded: these alone may arrive twice. */
const mayBeResent = new Set<string>();

const startNotifier = async () => {
  notifier = spawnFixture('test/faults/fixtures/notifierProcess.ts', lab.env({ ACK_WAIT_MS: '2500' }), 'notifier');
  await notifier.waitForLog((l) => l.msg === 'started', 30_000, '"started"');
};

beforeAll(async () => {
  lab = await openLab();
  projector = new ProjectorProcess(lab);
  [backend] = await Promise.all([startServices(['command'], lab.env(), 'command'), projector.start(), startNotifier()]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 4);
  // Alerts are set on the currencies of the latest run that the read models know of: the first run comes first.
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  for (const u of users) expect((await ledger.send('SetAlert', randomAlert(u.userId))).ok).toBe(true);
  // Commands keep coming through every kill (they make no emails of their own, so each kill lands where it is aimed).
  traffic = startTraffic(lab, ledger, users, { workers: 1, pauseMs: 60 });
}, 60_000);

afterAll(async () => {
  await traffic?.stop();
  await Promise.all([backend?.stop(), notifier?.stop(), projector?.stop()]);
  await lab?.close();
}, 30_000);

const emailsSentInLog = async () =>
  new Set(
    (await readLog(lab.store)).flatMap((m) =>
      m.events.filter((e): e is EventOf<'EmailSent'> => e.type === 'EmailSent').map((e) => e.data.messageId),
    ),
  );

/** After a kill: what the mail server has that the log does not record was sent but not recorded. */
async function afterKill(): Promise<{ unrecorded: string[]; recorded: Set<string> }> {
  await notifier.exited;
  outputs.push(notifier.output.join('\n'));
  await sleep(300); // let the mail server finish reading anything that was on the wire
  const recorded = await emailsSentInLog();
  const unrecorded = [...new Set(lab.mail.accepted.map((e) => e.messageId))].filter((id) => !recorded.has(id));
  for (const id of unrecorded) mayBeResent.add(id);
  return { unrecorded, recorded };
}

const copiesOf = (messageId: string) => lab.mail.accepted.filter((e) => e.messageId === messageId);

describe('the notifier killed with SIGKILL', () => {
  it('between sending a digest and recording it: after a restart every digest exists, the killed one resent with the same Message-ID', async () => {
    let killedOn = '';
    lab.mail.onAccepted((email) => {
      if (killedOn || !email.messageId.startsWith('<digest.')) return;
      killedOn = email.messageId;
      notifier.kill('SIGKILL');
    });
    const { seq } = await lab.publishRun('run-2', RUN_RATES[1]);
    await lab.projectorReaches(seq);
    await lab.mail.waitFor(() => killedOn !== '', 20_000, 'a digest');
    lab.mail.onAccepted(undefined);
    const { unrecorded } = await afterKill();
    expect(unrecorded).toContain(killedOn);

    await startNotifier();
    await lab.notifierCatchesUp();
    expect(copiesOf(killedOn)).toHaveLength(2);
    expect((await emailsSentInLog()).has(killedOn)).toBe(true);
  }, 60_000);

  it('between sending a verification email and recording it: resent once, with the same Message-ID', async () => {
    let killedOn = '';
    lab.mail.onAccepted((email) => {
      if (killedOn || !email.messageId.startsWith('<verify.')) return;
      killedOn = email.messageId;
      notifier.kill('SIGKILL');
    });
    const late = newUser(lab, 'late');
    expect(
      (
        await ledger.send('RequestRegistration', {
          username: late.username,
          email: late.email,
          password: late.password,
        })
      ).ok,
    ).toBe(true);
    await lab.mail.waitFor(() => killedOn !== '', 20_000, 'a verification email');
    lab.mail.onAccepted(undefined);
    expect((await afterKill()).unrecorded).toContain(killedOn);

    await startNotifier();
    await lab.notifierCatchesUp();
    expect(copiesOf(killedOn)).toHaveLength(2);
    expect(copiesOf(killedOn)[1]!.text).toBe(copiesOf(killedOn)[0]!.text);
  }, 60_000);

  it('between recording an email and acknowledging the run: after a restart nothing recorded is sent again', async () => {
    let killedOn = '';
    const watch = lab.nc.subscribe(`${lab.ns.events}.>`, {
      callback: (_error, msg) => {
        if (killedOn || msg.headers?.get(Header.type) !== 'EmailSent') return;
        notifier.kill('SIGKILL');
        killedOn = (JSON.parse(msg.string()) as { messageId: string }).messageId;
      },
    });
    const { seq: runSeq } = await lab.publishRun('run-3', RUN_RATES[0]);
    await lab.projectorReaches(runSeq);
    await lab.mail.waitFor(() => killedOn !== '', 20_000, 'a digest to be recorded');
    watch.unsubscribe();
    const { recorded } = await afterKill();
    expect(recorded.has(killedOn)).toBe(true);
    // The run that asked for the email was not acknowledged: it will be delivered again.
    const consumer = await lab.jsm.consumers.info(lab.ns.stream, 'cra-notifier');
    expect(consumer.ack_floor.stream_seq).toBeLessThan(runSeq);

    await startNotifier();
    await lab.notifierCatchesUp();
    // The restarted notifier worked the run again and skipped what was recorded.
    const again = notifier.logs().find((l) => l.msg === 'run notified' && l.seq === runSeq);
    expect(again?.skipped).toBeGreaterThanOrEqual(1);
    expect(copiesOf(killedOn)).toHaveLength(1);
  }, 60_000);

  it('leaves the log, the read models and the mailbox as one uninterrupted notifier would have', async () => {
    await traffic.stop();
    expect(traffic.sent()).toBeGreaterThan(20);
    await lab.settle({ timeoutMs: 30_000 });
    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted, { mayBeResent });
    expect(due.filter((d) => d.kind === 'alert-digest')).toHaveLength(users.length * 2);
    // Only what a kill left sent-but-unrecorded was sent twice.
    const twice = [...new Set(lab.mail.accepted.map((e) => e.messageId))].filter((id) => copiesOf(id).length > 1);
    expect(twice.every((id) => mayBeResent.has(id))).toBe(true);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 30_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const output of [...outputs, notifier.output.join('\n'), backend.output.join('\n'), projector.output()])
      expectNoSecretsIn(output, lab.secrets, 'the output of a service');
  });
});
