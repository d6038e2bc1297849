import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tablesIn } from '../../platform/postgres.ts';
import { CHECKPOINT, readCheckpoint } from '../../services/projector/projector.ts';
import { appendBacklog } from './support/backlog.ts';
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
import { runCra, spawnCra, startServices, type ServiceProcess } from './support/services.ts';
import { CommandLedger, registerUsers, RUN_RATES, startTraffic, type TestUser } from './support/traffic.ts';

// Fault: kill -9 of the projector in the middle of a large replay (and of `cra replay` itself), then restart.
let lab: Lab;
let backend: ServiceProcess;
let ledger: CommandLedger;
let users: TestUser[];
const processes: ServiceProcess[] = [];

beforeAll(async () => {
  lab = await openLab();
  backend = await startServices(['command', 'notifier'], lab.env(), 'command+notifier');
  processes.push(backend);
  ledger = new CommandLedger(lab.send);
  users = await registerUsers(lab, ledger, 3);
  // Alerts are set on the currencies of the latest run in the read models: the first run is projected before the backlog.
  const first = new ProjectorProcess(lab);
  await first.start();
  await lab.projectorReaches((await lab.publishRun('run-1', RUN_RATES[0])).seq);
  await first.stop();
  processes.push(...first.generations);
}, 60_000);

afterAll(async () => {
  for (const p of processes) await p.stop();
  await lab?.close();
}, 30_000);

const checkpoint = () => readCheckpoint(lab.pool, lab.schema).catch(() => 0);
/** Four replay batches: a replay of it takes about a second here, many times the 50 ms the test polls at. */
const BACKLOG = 20_000;

describe('the projector killed with SIGKILL in the middle of a large replay', () => {
  it('restarts from its checkpoint and ends equal to a clean rebuild, nothing lost, every email once', async () => {
    // Long enough that each kill below, and the replay's in the next test, lands with many batches still ahead.
    const backlogEnd = await appendBacklog(lab, BACKLOG);
    expect(backlogEnd).toBeGreaterThan(BACKLOG);
    const traffic = startTraffic(lab, ledger, users, { workers: 2, pauseMs: 30, registrations: true });

    // Kill it twice while it works through the backlog, each time at a different point of the replay.
    const killedAt: number[] = [];
    for (const share of [0.2, 0.6]) {
      const projector = spawnCra(['start', 'projector'], lab.env(), 'projector');
      processes.push(projector);
      await waitUntil(
        async () => (await checkpoint()) >= backlogEnd * share || !projector.isAlive(),
        60_000,
        `the projector to pass ${share * 100}% of the backlog`,
      );
      projector.kill('SIGKILL');
      await projector.exited;
      killedAt.push(await checkpoint());
      if (killedAt.length === 1) await lab.publishRun('run-2', RUN_RATES[1]);
    }
    expect(killedAt.every((seq, i) => seq > 0 && seq < backlogEnd && (i === 0 || seq > killedAt[i - 1]!))).toBe(true);

    const projector = new ProjectorProcess(lab);
    await projector.start();
    await lab.publishRun('run-3', RUN_RATES[0]);
    await sleep(1_000);
    await traffic.stop();
    expect(traffic.sent()).toBeGreaterThan(20);
    await lab.settle({ timeoutMs: 60_000 });
    processes.push(...projector.generations);

    const log = await readLog(lab.store);
    expectEachAcknowledgedCommandOnce(log, ledger.records);
    expect(ledger.acked().length).toBeGreaterThan(20);
    await expectReadModelsEqualCleanRebuild(lab);
    const { due } = expectEveryDueEmailSentOnce(log, lab.mail.accepted);
    expect(due.filter((d) => d.kind === 'alert-digest').length).toBeGreaterThanOrEqual(3);
    await projector.stop();
  }, 150_000);

  it('`cra replay` killed halfway leaves the live read models whole, and the next replay ends equal to a clean rebuild', async () => {
    const replay = spawnCra(['replay'], lab.env(), 'cra replay');
    processes.push(replay);
    const rebuilding = `${lab.schema}_rebuild`;
    await waitUntil(
      async () => (await readCheckpoint(lab.pool, rebuilding).catch(() => 0)) > 0,
      60_000,
      'the replay to get going',
    );
    // Hold the replay's checkpoint row: it applies each batch under that lock, so it stops at its next batch and
    // the kill lands while it is really halfway, however fast the replay has become.
    const hold = await lab.pool.connect();
    try {
      await hold.query('BEGIN');
      const held = await hold.query<{ seq: number }>(
        `SELECT seq FROM ${tablesIn(rebuilding)('checkpoints')} WHERE name = $1 FOR UPDATE`,
        [CHECKPOINT],
      );
      expect(held.rows[0]!.seq, 'the replay had not finished when it was stopped').toBeLessThan(
        await lab.store.lastSeq(),
      );
      replay.kill('SIGKILL');
      await replay.exited;
    } finally {
      await hold.query('ROLLBACK').catch(() => {});
      hold.release();
    }
    expect(await readCheckpoint(lab.pool, rebuilding)).toBeLessThan(await lab.store.lastSeq());
    // The live read models were never touched: they still answer, at the end of the log.
    expect(await checkpoint()).toBe(await lab.store.lastSeq());

    const again = await runCra(['replay'], lab.env(), 90_000);
    expect(again.code, again.output.join('\n')).toBe(0);
    expect(again.stdout.join('\n')).toMatch(/read models rebuilt from the log up to sequence \d+/);
    await expectReadModelsEqualCleanRebuild(lab);
  }, 90_000);

  it("leaves no password, token or secret in the log or in the services' output", async () => {
    expectNoSecretsIn(await logText(lab.store), lab.secrets, 'the log');
    for (const p of processes) expectNoSecretsIn(p.output.join('\n'), lab.secrets, `the output of ${p.label}`);
  });
});
