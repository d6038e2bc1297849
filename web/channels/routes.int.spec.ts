import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjects } from '../../events/index.ts';
import { tablesIn } from '../../platform/postgres.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import type { Resolve } from '../../platform/webhookHttp/destination.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { registeredBrowser } from '../../test/testUsers.ts';
import { webClient } from '../../test/webClient.ts';

const PASSWORD = 'correct horse battery';
const plenty = { max: 10_000, timeWindowMs: 60_000 };
/** Public names as a DNS would answer them, and one that leads home. */
const resolve: Resolve = async (host) => {
  const table: Record<string, string> = { 'hooks.slack.test': '93.184.215.14', 'inside.test': '10.1.2.3' };
  if (!table[host]) throw new Error('not found');
  return [{ address: table[host], family: 4 }];
};
const SLACK = 'https://hooks.slack.test/services/T000/B000/abcdefghijkl';

let system: TestSystem;
beforeAll(async () => {
  system = await startTestSystem({
    notifier: false,
    web: {
      rateLimits: { registerPerClient: plenty, loginPerClient: plenty },
      webhooks: { policy: { allowHttp: false, allowPrivate: false }, resolve },
    },
  });
});
afterAll(async () => system?.close());

const rowsOf = async (userId: string) =>
  (
    await system.world.pool.query<{ channel_id: string; url: string; secret: string; status: string }>(
      `SELECT channel_id, url, secret, status FROM ${tablesIn(system.world.schema)('channels')} WHERE user_id = $1 ORDER BY added_seq`,
      [userId],
    )
  ).rows;

describe('the channels page', () => {
  it('is reached from the account page, and asks a guest to log in', async () => {
    const { browser } = await registeredBrowser(system, 'chan-link', PASSWORD);
    expect((await browser.get('/account')).body).toContain('href="/channels"');
    const guest = await webClient(system.app).get('/channels');
    expect(guest.status).toBe(303);
    expect(guest.location).toMatch(/^\/login/);
  });

  it('adds a Slack channel and a signed JSON one, whose secret is shown once; the URLs are sealed in log and read model', async () => {
    const { browser, userId } = await registeredBrowser(system, 'chan-add', PASSWORD);
    const empty = await browser.get('/channels');
    expect(empty.status).toBe(200);
    expect(empty.body).toContain('No channels yet');

    const slack = await browser.post('/channels', { url: SLACK, format: 'slack', commandId: 'form-key-0001' });
    expect(slack.status).toBe(201);
    expect(slack.body).toContain('Channel added');
    expect(slack.body).not.toContain('whsec_');
    expect(slack.body).toContain('https://hooks.slack.test/service…ijkl');

    const json = await browser.post('/channels', {
      url: 'https://hooks.slack.test/cra',
      format: 'json',
      commandId: 'form-key-0002',
    });
    expect(json.status).toBe(201);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(json.body)?.[0];
    expect(secret).toBeDefined();
    // The same form sent again adds nothing, and tells no secret.
    const again = await browser.post('/channels', {
      url: 'https://hooks.slack.test/cra',
      format: 'json',
      commandId: 'form-key-0002',
    });
    expect(again.status).toBe(200);
    expect(again.body).not.toContain('whsec_');
    const page = await browser.get('/channels');
    expect(page.body).not.toContain(secret!);

    const rows = await rowsOf(userId);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.url).toMatch(/^sealed:v1:/);
      expect(row.secret).toMatch(/^sealed:v1:/);
    }
    const log = JSON.stringify(
      (await system.world.store.load(subjects.channel(system.world.ns, rows[1]!.channel_id))).history,
    );
    expect(log).not.toContain('hooks.slack.test');
    expect(log).not.toContain(secret!);
  });

  it('refuses a bad URL with the reason beside the field, at 422, and adds nothing', async () => {
    const { browser, userId } = await registeredBrowser(system, 'chan-bad', PASSWORD);
    await browser.get('/channels');
    const cases: [Record<string, string>, RegExp][] = [
      [{ url: '', format: 'slack' }, /Enter the webhook URL/],
      [{ url: 'not a url', format: 'slack' }, /Enter a whole URL/],
      [{ url: 'ftp://hooks.slack.test/x', format: 'slack' }, /Use an https:\/\/ URL/],
      [{ url: 'http://hooks.slack.test/x', format: 'slack' }, /Use an https:\/\/ URL/],
      [{ url: 'https://user:pw@hooks.slack.test/x', format: 'slack' }, /user name and password/],
      [{ url: 'https://127.0.0.1/x', format: 'json' }, /not on the public internet.*loopback/],
      [{ url: 'https://2130706433/x', format: 'json' }, /not on the public internet.*loopback/],
      [{ url: 'https://[::ffff:169.254.169.254]/x', format: 'json' }, /linkLocal/],
      [{ url: 'https://inside.test/x', format: 'json' }, /resolves to an address not on the public internet/],
      [{ url: `https://hooks.slack.test/${'x'.repeat(2_000)}`, format: 'json' }, /at most 2000/],
      [{ url: SLACK, format: 'teams' }, /Choose a format/],
    ];
    for (const [form, reason] of cases) {
      const answer = await browser.post('/channels', form);
      expect(answer.status, JSON.stringify(form).slice(0, 80)).toBe(422);
      expect(answer.body).toMatch(reason);
      expect(answer.body).toMatch(/class="field-error" id="f-(url|format)-error"/);
    }
    expect(await rowsOf(userId)).toEqual([]);
  });

  it('refuses an eleventh channel beside the URL field; a deleted one makes room', async () => {
    const { browser, userId } = await registeredBrowser(system, 'chan-cap', PASSWORD);
    for (let i = 0; i < 10; i++) {
      const added = await system.send('AddChannel', {
        userId,
        channelId: `ccap${i}`,
        url: `${SLACK}${i}`,
        format: 'slack',
      });
      expect(added.ok).toBe(true);
      // The cap counts the read model's channels: as fresh as the projector.
      await waitForProjection(system.world.pool, system.world.schema, added.ok ? added.seq : 0, 5_000);
    }
    await browser.get('/channels');
    const refused = await browser.post('/channels', { url: SLACK, format: 'slack' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatch(/id="f-url-error">You have 10 channels, the most allowed/);
    const deleted = await system.send('DeleteChannel', { userId, channelId: 'ccap0' });
    expect(deleted.ok).toBe(true);
    await waitForProjection(system.world.pool, system.world.schema, deleted.ok ? deleted.seq : 0, 5_000);
    expect((await browser.post('/channels', { url: SLACK, format: 'slack' })).status).toBe(201);
  });

  it('sends a test, pauses, resumes and deletes (after a confirmation without JavaScript); each a 303 back', async () => {
    const { browser, userId } = await registeredBrowser(system, 'chan-ops', PASSWORD);
    await browser.get('/channels');
    await browser.post('/channels', { url: SLACK, format: 'discord' });
    const id = (await rowsOf(userId))[0]!.channel_id;
    await browser.get('/channels');

    expect((await browser.post(`/channels/${id}/test`)).status).toBe(303);
    const tests = (await system.world.store.load(subjects.channel(system.world.ns, id))).history
      .flatMap((h) => h.events)
      .filter((e) => e.type === 'ChannelTestRequested');
    expect(tests).toHaveLength(1);

    expect((await browser.post(`/channels/${id}/pause`)).location).toBe('/channels');
    expect((await rowsOf(userId))[0]!.status).toBe('paused');
    expect((await browser.get('/channels')).body).toContain('Resume');
    expect((await browser.post(`/channels/${id}/resume`)).status).toBe(303);
    expect((await rowsOf(userId))[0]!.status).toBe('active');

    await browser.get('/channels');
    const confirm = await browser.post(`/channels/${id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Delete the Discord channel');
    expect((await browser.post(`/channels/${id}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect((await rowsOf(userId))[0]!.status).toBe('deleted');
    expect((await browser.get('/channels')).body).toContain('No channels yet');
    expect((await browser.get('/activity')).body).toContain('Deleted channel');
  });

  it("refuses someone else's channel as absent, and any change without the CSRF token", async () => {
    const { browser: owner, userId } = await registeredBrowser(system, 'chan-owner', PASSWORD);
    await owner.get('/channels');
    await owner.post('/channels', { url: SLACK, format: 'slack' });
    const id = (await rowsOf(userId))[0]!.channel_id;

    const { browser: intruder } = await registeredBrowser(system, 'chan-intruder', PASSWORD);
    await intruder.get('/channels');
    for (const verb of ['test', 'pause', 'resume'])
      expect((await intruder.post(`/channels/${id}/${verb}`)).status).toBe(404);
    expect((await intruder.post(`/channels/${id}/delete`, { confirm: 'yes' })).status).toBe(404);
    expect((await intruder.post(`/channels/${id}/delete`)).status).toBe(404);

    expect((await owner.postRaw(`/channels/${id}/pause`, {})).status).toBe(403);
    expect((await owner.postRaw('/channels', { url: SLACK, format: 'slack' })).status).toBe(403);
    expect((await rowsOf(userId)).map((r) => r.status)).toEqual(['active']);
  });

  it('is in the data export: each channel with its URL opened, the signing secret withheld', async () => {
    const { browser, userId } = await registeredBrowser(system, 'chan-export', PASSWORD);
    await browser.get('/channels');
    const added = await browser.post('/channels', { url: 'https://hooks.slack.test/mine', format: 'json' });
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(added.body)![0];
    const exported = await browser.get('/account/export');
    expect(exported.status).toBe(200);
    expect(exported.body).not.toContain(secret);
    const document = JSON.parse(exported.body) as {
      channels: { channelId: string; url: string; format: string; status: string }[];
      events: { type: string; data: Record<string, unknown> }[];
    };
    const channel = (await rowsOf(userId))[0]!;
    expect(document.channels).toEqual([
      expect.objectContaining({
        channelId: channel.channel_id,
        url: 'https://hooks.slack.test/mine',
        format: 'json',
        status: 'active',
      }),
    ]);
    expect(document.events.find((e) => e.type === 'ChannelAdded')?.data).toMatchObject({
      url: 'https://hooks.slack.test/mine',
      secret: 'withheld',
    });
  });
});
