import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects, type CommandReply } from '../../events/index.ts';
import { browser } from '../faults/support/browser.ts';
import {
  expectEachAcknowledgedCommandOnce,
  expectEveryDueEmailSentOnce,
  expectReadModelsEqualCleanRebuild,
  readLog,
} from '../faults/support/invariants.ts';
import { sleep, waitUntil } from '../faults/support/lab.ts';
import { newUser, randomAlert, registerUsers, RUN_RATES, type TestUser } from '../faults/support/traffic.ts';
import { consumerFilters, openClusterBed, streamHealthy, streamLeader, type ClusterBed } from './support.ts';
import { testUserId } from '../personalKeys.ts';

// The three-node cluster bed (replicas 3, two processes of every service), one fault at a time, each restored before
// the next; the invariants of the single-server fault suite are checked over the whole log at the end.
let bed: ClusterBed;
let users: TestUser[];

/** Log in every `pauseMs` for `forMs`, one command at a time: when each was sent (ms after `since`) and whether it succeeded. */
async function logInsFor(forMs: number, since: number, pauseMs = 200): Promise<{ at: number; reply: CommandReply }[]> {
  const outcomes: { at: number; reply: CommandReply }[] = [];
  for (let i = 0; Date.now() - since < forMs; i++) {
    const user = users[i % users.length]!;
    const at = Date.now() - since;
    outcomes.push({ at, reply: await bed.ledger.send('LogIn', { username: user.username, password: user.password }) });
    await sleep(pauseMs);
  }
  return outcomes;
}

const failures = (outcomes: { at: number; reply: CommandReply }[]) =>
  outcomes
    .filter((o) => !o.reply.ok)
    .map((o) => `${o.at} ms: ${o.reply.ok ? '' : `${o.reply.error} ${o.reply.message}`}`);

// Opt-in (CRA_CLUSTER_TESTS=1): timing-bound availability checks need the machine to themselves, so .ci/run runs
// this file on its own after the main suite rather than beside other files on two cores.
describe.skipIf(!process.env.CRA_CLUSTER_TESTS)('a JetStream cluster of three nodes', () => {
  beforeAll(async () => {
    bed = await openClusterBed();
    users = await registerUsers(bed.lab, bed.ledger, 3);
  }, 120_000);

  afterAll(async () => bed?.close(), 60_000);

  it("the notifier pulls again within seconds when its consumer's leader steps down, and says so", async () => {
    const stepDown = await bed.lab.nc.request(
      `$JS.API.CONSUMER.LEADER.STEPDOWN.${bed.lab.ns.stream}.cra-notifier`,
      '',
      { timeout: 5_000 },
    );
    expect(stepDown.json<{ success?: boolean }>()).toMatchObject({ success: true });
    const user = newUser(bed.lab, 'after-stepdown');
    const sent = Date.now();
    expect(
      await bed.ledger.send('RequestRegistration', {
        username: user.username,
        email: user.email,
        password: user.password,
      }),
    ).toMatchObject({ ok: true });
    await bed.lab.mail.waitFor((m) => m.some((e) => e.to.includes(user.email)), 30_000, 'the verification email');
    const tookMs = bed.lab.mail.accepted.find((e) => e.to.includes(user.email))!.at - sent;
    expect(tookMs).toBeLessThan(5_000);
    const silent = bed.fleet
      .of('notifier')
      .flatMap((p) => p.logs())
      .filter((l) => l.msg?.includes('went silent'));
    expect(silent.length).toBeGreaterThan(0);
  }, 60_000);

  it('a registration whose answer timed out is said to be maybe saved, and sending it again is that registration, not "username taken"', async () => {
    const site = browser(bed.fleet.webUrls[0]!);
    await site.get('/register');
    const user = newUser(bed.lab, 'slow');
    // Usernames are sealed in the log: the registration is found by its subject, the username's.
    const userSubject = subjects.user(bed.lab.ns, testUserId(user.username));
    const form = { username: user.username, email: user.email, password: user.password };
    // Every command service frozen past the web's 5 s wait: the request waits in their sockets and is handled after.
    const commands = bed.fleet.of('command');
    for (const p of commands) p.kill('SIGSTOP');
    let first;
    try {
      first = await site.post('/register', form);
    } finally {
      for (const p of commands) p.kill('SIGCONT');
    }
    expect(first.status).toBe(503);
    expect(first.body).toMatch(/may have been saved/);
    expect(first.body).not.toMatch(/Nothing was changed/);
    // Frozen past the servers' stale-client check (pings every 2 s, 2 missed), a command service may have been
    // disconnected with the request unread: then it was never stored, and sending again registers it. Either way
    // the second answer is that registration, never "username taken", and the log holds one request.
    const stored = async () =>
      (await readLog(bed.lab.store)).some(
        (m) => m.subject === userSubject && m.events.some((e) => e.type === 'RegistrationRequested'),
      );
    await waitUntil(stored, 10_000, 'the first registration to be stored').catch(() => undefined);
    const again = await site.post('/register', form);
    expect(again.status, again.body).toBe(200);
    expect(again.body).toMatch(/We sent a verification link/);
    const requests = (await readLog(bed.lab.store))
      .filter((m) => m.subject === userSubject)
      .flatMap((m) => m.events)
      .filter((e) => e.type === 'RegistrationRequested');
    expect(requests).toHaveLength(1);
  }, 60_000);

  it('with one node killed, every command after the first 10 s succeeds and loading an aggregate creates no consumer', async () => {
    const leader = await streamLeader(bed.lab);
    const follower = bed.lab.nats.nodes.find((n) => n !== leader)!;
    await follower.stop('SIGKILL');
    const killed = Date.now();
    try {
      await sleep(10_000);
      const outcomes = await logInsFor(20_000, killed, 0);
      expect(failures(outcomes)).toEqual([]);
      expect(outcomes.length).toBeGreaterThanOrEqual(20);
      // Readers following the log may renew their ordered consumers while a node is away; a load would have made
      // one filtered on the user's own subject.
      const userSubjects = new Set(users.map((u) => subjects.user(bed.lab.ns, testUserId(u.username))));
      expect((await consumerFilters(bed.lab)).filter((f) => userSubjects.has(f))).toEqual([]);
    } finally {
      await follower.start();
    }
    await streamHealthy(bed.lab);
  }, 90_000);

  it('with the node a client is connected to frozen (SIGSTOP), the client leaves it and commands succeed again within 10 s', async () => {
    await streamHealthy(bed.lab);
    const server = bed.lab.nc.getServer();
    const frozen = bed.lab.nats.nodes.find((n) => server.endsWith(`:${n.port}`))!;
    expect(frozen, `the node of ${server}`).toBeDefined();
    frozen.freeze();
    const froze = Date.now();
    let outcomes;
    try {
      outcomes = await logInsFor(25_000, froze);
    } finally {
      frozen.thaw();
    }
    await streamHealthy(bed.lab);
    const late = outcomes.filter((o) => o.at >= 10_000);
    expect(late.length).toBeGreaterThanOrEqual(5);
    expect(failures(late)).toEqual([]);
  }, 90_000);

  it('holds the invariants of the fault suite over the whole log: each acknowledged command once, read models as rebuilt, each due email once', async () => {
    // Alerts are set on the currencies of the latest run the read models know of: the first run comes first.
    await bed.lab.projectorReaches((await bed.lab.publishRun('cluster-run-1', RUN_RATES[0])).seq);
    for (const u of users) expect((await bed.ledger.send('SetAlert', randomAlert(u.userId))).ok).toBe(true);
    await bed.lab.publishRun('cluster-run-2', RUN_RATES[1]);
    await bed.lab.publishRun('cluster-run-3', RUN_RATES[0]);
    await bed.ledger.resendUnanswered();
    await bed.lab.settle({ timeoutMs: 60_000 });
    const log = await readLog(bed.lab.store);
    expectEachAcknowledgedCommandOnce(log, bed.ledger.records);
    await expectReadModelsEqualCleanRebuild(bed.lab);
    expectEveryDueEmailSentOnce(log, bed.lab.mail.accepted);
  }, 120_000);
});
