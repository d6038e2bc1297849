import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvents, namespaceFor, type Namespace } from '../../events/index.ts';
import { EventStore, type RawMessage } from '../../platform/eventStore/index.ts';
import { PersonalData, personKeysBucket, revealedData } from '../../platform/personalData/index.ts';
import { linkSecret } from '../../platform/tokens.ts';
import { NOTIFIER_CONSUMER } from '../../services/notifier/main.ts';
import { plainUserIdFor } from '../../cli/copiedMessage.ts';
import { runCra, spawnCra } from '../faults/support/services.ts';
import { NEW_PASSWORD, NINA_PASSWORD, people, writeOldFormatLog } from '../fixtures/oldFormatLog.ts';
import { newTag, openTestWorld, type TestWorld } from '../harness.ts';
import { TEST_MASTER_KEY, testMasterKey } from '../personalKeys.ts';
import { startTestSystem, TEST_SECRET, type TestSystem } from '../system.ts';
import { webClient } from '../webClient.ts';

// `cra copy-log` on the real servers: a log as the code before sealing wrote it, copied into a new namespace, read by
// the services there (README "Personal data", docs/design.md §9).
let old: TestWorld;
let jsm: JetStreamManager;
let dataDir: string;
const clean = newTag();
const killed = newTag();
const LOGINS = 3_000;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  old = await openTestWorld();
  jsm = await jetstreamManager(old.nc);
  dataDir = mkdtempSync(join(tmpdir(), 'cra-copy-log-'));
  await writeOldFormatLog(old, linkSecret(TEST_SECRET), { logins: LOGINS });
}, 120_000);
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  for (const tag of [clean, killed]) {
    const ns = namespaceFor(tag);
    await jsm?.streams.delete(ns.stream).catch(() => {});
    await jsm?.streams.delete(`KV_${personKeysBucket(ns)}`).catch(() => {});
  }
  await old?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const env = (tag: string) => ({
  NATS_URL: old.natsUrl,
  DATABASE_URL: old.databaseUrl,
  CRA_NAMESPACE: tag,
  CRA_SCHEMA: `test_${tag}`,
  CRA_DATA_DIR: dataDir,
  CRA_MASTER_KEY: TEST_MASTER_KEY,
  JWT_SECRET: TEST_SECRET,
  LOG_LEVEL: 'warn',
});
const copy = (tag: string) => runCra(['copy-log', '--from', old.ns.stream], env(tag), 120_000);

async function messagesOf(ns: Namespace): Promise<RawMessage[]> {
  const store = await EventStore.open(old.nc, ns);
  const all: RawMessage[] = [];
  for await (const raw of store.read({ fromSeq: 1 })) all.push(raw);
  return all;
}

const stateOf = async (ns: Namespace) => {
  const { state } = await jsm.streams.info(ns.stream, { deleted_details: true });
  return { first: state.first_seq, last: state.last_seq, messages: state.messages, deleted: state.deleted };
};

/** Every message of a namespace as a reader sees it: subject, headers, and each event with its personal fields opened. */
async function readable(ns: Namespace) {
  const personal = await PersonalData.open(old.nc, ns, testMasterKey);
  try {
    const out = [];
    for (const raw of await messagesOf(ns)) {
      const { events, meta } = decodeEvents(raw.headers, raw.body);
      const opened = [];
      for (const e of events) opened.push({ type: e.type, data: await revealedData(personal, e) });
      out.push({
        seq: raw.seq,
        subject: raw.subject.split('.').slice(1).join('.'),
        headers: raw.headers,
        meta,
        opened,
      });
    }
    return out;
  } finally {
    personal.close();
  }
}

describe('cra copy-log: a log written before sealing, into a new namespace', () => {
  it('keeps every sequence and gap, and leaves no username, address or plain-hash id in the new stream', async () => {
    const result = await copy(clean);
    expect(result.code, result.output.join('\n')).toBe(0);
    expect(result.stdout.at(-1)).toMatch(/^copied .* 3 user ids re-derived/);

    const from = old.ns;
    const to = namespaceFor(clean);
    expect(await stateOf(to)).toEqual(await stateOf(from));
    const before = await messagesOf(from);
    const after = await messagesOf(to);
    expect(after.map((m) => m.seq)).toEqual(before.map((m) => m.seq));
    expect(before[0]!.seq).toBe(3);

    const plain = [
      ...Object.values(people).flatMap((p) => [p.username, p.email]),
      ...['olga', 'piet', 'quin'].map((p) => plainUserIdFor(`${p}.old`)),
    ];
    for (const m of after) {
      const bytes = Buffer.concat([
        Buffer.from(m.subject),
        Buffer.from(JSON.stringify(m.headers)),
        Buffer.from(m.body),
      ]);
      for (const needle of plain) expect(bytes.includes(needle), `${needle} at ${m.seq}`).toBe(false);
    }
    // The old log held them, so the search can find them.
    const oldBytes = Buffer.concat(before.map((m) => Buffer.from(m.body)));
    expect(oldBytes.includes(people.olga.email)).toBe(true);

    // The notifier goes on where the old one was: nothing of the old log is emailed again.
    const consumer = await jsm.consumers.info(to.stream, NOTIFIER_CONSUMER);
    expect(consumer.config.opt_start_seq).toBe(
      (await jsm.consumers.info(from.stream, NOTIFIER_CONSUMER)).ack_floor.stream_seq + 1,
    );
  }, 120_000);

  it('refuses a namespace whose stream already holds messages, in one line', async () => {
    const again = await copy(clean);
    expect(again.code).toBe(1);
    expect(again.output).toEqual([
      expect.stringMatching(/^cra: .*_CRA_EVENTS already holds \d+ messages: copy-log writes only into a new stream/),
    ]);
  });

  it('killed halfway, run again: starts over and ends equal to a clean copy', async () => {
    const to = namespaceFor(killed);
    const last = (await jsm.streams.info(old.ns.stream)).state.last_seq;
    const first = spawnCra(['copy-log', '--from', old.ns.stream], env(killed));
    let stored = 0;
    for (;;) {
      stored = await jsm.streams.info(to.stream).then(
        (i) => i.state.last_seq,
        () => 0,
      );
      if (stored > last / 3 || !first.isAlive()) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    first.kill('SIGKILL');
    await first.exited;
    expect(stored, 'the copy was killed halfway').toBeLessThan(last);
    const halfway = await jsm.streams.info(to.stream);
    expect(halfway.config.description).toMatch(/unfinished/);

    const rerun = await copy(killed);
    expect(rerun.code, rerun.output.join('\n')).toBe(0);
    expect(rerun.stdout[0]).toMatch(/holds an unfinished copy of .*: deleting it and its keys, copying anew/);
    expect((await jsm.streams.info(to.stream)).config.description ?? '').toBe('');
    expect(await stateOf(to)).toEqual(await stateOf(namespaceFor(clean)));
    const rerunBucket = await jsm.streams.info(`KV_${personKeysBucket(to)}`);
    const cleanBucket = await jsm.streams.info(`KV_${personKeysBucket(namespaceFor(clean))}`);
    expect(rerunBucket.state.messages).toBe(cleanBucket.state.messages);
    expect(await readable(to)).toEqual(await readable(namespaceFor(clean)));
  }, 120_000);

  describe('the services on the new namespace', () => {
    let system: TestSystem;
    beforeAll(async () => {
      for (const args of [['replay'], ['replay', '--verify']]) {
        const run = await runCra(args, env(clean), 120_000);
        expect(run.code, run.output.join('\n')).toBe(0);
      }
      system = await startTestSystem({ tag: clean });
      cleanups.push(() => system.close());
    }, 180_000);

    it('a migrated person logs in with her password and sees her alert; one who came after the upgrade too', async () => {
      const olga = webClient(system.app);
      await olga.get('/login');
      expect((await olga.post('/login', { username: people.olga.username, password: NEW_PASSWORD })).status).toBe(303);
      const alerts = await olga.get('/alerts');
      expect(alerts.body).toContain('EUR/USD');
      expect(alerts.body).toContain('1.1');
      expect(alerts.body).not.toContain('EUR/GBP');
      const account = await olga.get('/account');
      expect(account.body).toContain(people.olga.email);

      const nina = webClient(system.app);
      await nina.get('/login');
      expect((await nina.post('/login', { username: people.nina.username, password: NINA_PASSWORD })).status).toBe(303);
      expect((await nina.get('/alerts')).body).toContain('1.15');
      // Nothing of the old log went out again: the notifier started where the old one was.
      await new Promise((r) => setTimeout(r, 1_500));
      expect(system.smtp.received).toEqual([]);
    });

    it('a migrated person is erased: the confirmation goes to their address, then their fields read (erased)', async () => {
      const erase = await runCra(['erase', '--user', people.piet.username], env(clean));
      expect(erase.code, erase.output.join('\n')).toBe(0);
      await system.smtp.waitFor((m) => m.some((e) => e.to === people.piet.email));
      await expect
        .poll(
          async () => {
            const events = await runCra(['events', '--user', people.piet.username], env(clean));
            return events.stdout.filter((l) => l.includes('UserRegistered')).join('\n');
          },
          { timeout: 15_000, interval: 500 },
        )
        .toMatch(/"username":"\(erased\)","email":"\(erased\)"/);
      const events = await runCra(['events', '--user', people.piet.username], env(clean));
      expect(events.stdout.join('\n')).not.toContain(people.piet.email);
    });
  });
});
