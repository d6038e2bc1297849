import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectNoSecretsIn,
  expectReadModelsEqualCleanRebuild,
  logText,
  readLog,
} from './support/invariants.ts';
import { openLab, sleep, waitUntil, type Lab } from './support/lab.ts';
import { ProjectorProcess } from './support/projector.ts';
import { startServices, type ServiceProcess } from './support/services.ts';
import {
  CommandLedger,
  newUser,
  randomAlert,
  registerUsers,
  RUN_RATES,
  startTraffic,
  type TestUser,
} from './support/traffic.ts';

// Fault: the SMTP server down for 30 seconds during a run.
let lab: Lab;
let backend: ServiceProcess;
let projector: ProjectorProcess;
let ledger: CommandLedger;
let users: TestUser[];

beforeAll(async () => {
  lab = await openLab();
  projector = new ProjectorProcess(lab);
  [backend] = await Promise.all([
    startServices(['command', 'notifier'], lab.env(), 'command+notifier'),
    projector.start(),
  ]);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 5);
  // Alerts are set on the currencies of the latest run that the read models know of: the first run comes first.
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  for (const u of users)
    for (let i = 0; i < 2; i++) expect((await ledger.send('SetAlert', randomAlert(u.userId))).ok).toBe(true);
}, 60_000);

afterAll(async () => {
  await Promise.all([backend?.stop(), projector?.stop()]);
  await lab?.close();
}, 30_000);

describe('the SMTP server down for 30 seconds during a run', () => {
  it('every digest and verification email arrives once it is back, none twice', async () => {
    const traffic = startTraffic(lab, ledger, users, { workers: 2, pauseMs: 50, registrations: true });
    await sleep(1_000);

    // It goes down in the middle of the run: as the first of the run's digests reaches it.
    let downAt = 0;
    let going: Promise<void> | undefined;
    lab.mail.onAccepted((email) => {
      if (downAt || !email.messageId.startsWith('<digest.')) return;
      downAt = Date.now();
      going = lab.mail.down();
    });
    const acceptedBefore = lab.mail.accepted.length;
    const { seq: runDuringOutage } = await lab.publishRun('run-2', RUN_RATES[1]);
    await lab.projectorReaches(runDuringOutage);
    await waitUntil(() => downAt > 0, 20_000, 'the run to start sending');
    await going;
    lab.mail.onAccepted(undefined);
    const newcomers = [newUser(lab, 'newcomer'), newUser(lab, 'newcomer')];
    for (const u of newcomers)
      expect(
        (await ledger.send('RequestRegistration', { username: u.username, email: u.email, password: u.password })).ok,
      ).toBe(true);
    expect((await ledger.send('RequestPasswordReset', { userId: users[0]!.userId })).ok).toBe(true);
    await sleep(30_000 - (Date.now() - downAt));
    // Of the run's digests, the mail server had taken one when it went down, and nothing since.
    const runDigests = (emails: typeof lab.mail.accepted) =>
      emails.filter((e) => e.messageId.startsWith(`<digest.${runDuringOutage}.`));
    expect(runDigests(lab.mail.accepted.slice(acceptedBefore))).toHaveLength(1);
    expect(lab.mail.accepted.filter((e) => e.at > downAt)).toEqual([]);
    // Each email that met the outage was deferred (EmailDeferred, a log line), none given up.
    const deferred = backend
      .logs()
      .filter((l) => l.msg === 'the mail server did not take an email; it is tried again later');
    expect(deferred.length).toBeGreaterThanOrEqual(2);
    expect(backend.logs().filter((l) => l.msg === 'the mail server refused an email for good')).toEqual([]);

    await lab.mail.up();
    await sleep(1_000);
    await traffic.stop();
    await lab.settle({ timeoutMs: 45_000 });

    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    const delivered = new Set(lab.mail.accepted.slice(acceptedBefore).map((e) => e.messageId));
    // What fell due during the outage was delivered after it: the rest of the run's digests, the newcomers' links, the reset link.
    expect(runDigests(lab.mail.accepted)).toHaveLength(users.length);
    expect(due.filter((d) => d.kind === 'alert-digest' && delivered.has(d.messageId)).length).toBeGreaterThanOrEqual(
      users.length,
    );
    expect(
      due.filter(
        (d) => d.kind === 'verification' && newcomers.some((u) => u.userId === d.userId) && delivered.has(d.messageId),
      ),
    ).toHaveLength(2);
    expect(due.filter((d) => d.kind === 'password-reset' && delivered.has(d.messageId))).toHaveLength(1);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 120_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    expectNoSecretsIn(`${backend.output.join('\n')}\n${projector.output()}`, lab.secrets, 'the output of the services');
  });
});
