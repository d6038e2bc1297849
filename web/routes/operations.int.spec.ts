import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevMailbox } from '../../platform/devMailbox.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';
import { webClient } from '../../test/webClient.ts';

let system: TestSystem;
const mailbox = new DevMailbox(join(mkdtempSync(join(tmpdir(), 'cra-mailbox-')), 'mailbox'));
let natsUp = true;

beforeAll(async () => {
  system = await startTestSystem({ web: { metrics: createMetrics(), devMailbox: mailbox, natsIsConnected: () => natsUp } });
});
afterAll(async () => system?.close());

describe('operations and audit pages', () => {
  it('reports health only when NATS and Postgres answer', async () => {
    const ok = await system.app.inject({ url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', nats: 'ok', postgres: 'ok' });
    natsUp = false;
    const down = await system.app.inject({ url: '/healthz' });
    natsUp = true;
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ nats: 'down', postgres: 'ok' });
  });

  it('exposes Prometheus metrics including request latency', async () => {
    await system.app.inject({ url: '/login' });
    const res = await system.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/cra_http_request_duration_seconds_count\{method="GET",route="\/login",status="200"\} \d+/);
    expect(res.body).toContain('cra_projector_lag_events');
  });

  it("shows a user their own activity from the log, and nobody else's", async () => {
    const browser = webClient(system.app);
    await browser.get('/register');
    await browser.post('/register', { username: 'auditor', email: 'auditor@example.com', password: 'a long password 5' });
    const mail = (await system.smtp.waitFor((m) => m.some((e) => e.to.startsWith('auditor@')))).find((e) => e.to.startsWith('auditor@'))!;
    await browser.get(/http:\/\/localhost:7007(\/verify\?token=\S+)/.exec(mail.text)![1]!);
    await browser.get('/login');
    await browser.post('/login', { username: 'auditor', password: 'a long password 5' });
    const page = await browser.get('/activity');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Registered as auditor');
    expect(page.body).toContain('Logged in');
    expect(page.body).toContain('Email sent: verification');
    expect(page.body).not.toContain('journey');
    expect((await webClient(system.app).get('/activity')).location).toBe('/login?next=%2Factivity');
  });

  it('shows the dev mailbox with escaped content and clickable links', async () => {
    await mailbox.deliver({ from: 'CRA <a@b>', to: 'x@example.com', subject: 'Hello <b>you</b>', text: 'Open http://localhost:7007/verify?token=abc <script>', html: '<p>hi</p>', messageId: '<m1@b>' });
    const list = await system.app.inject({ url: '/dev/mailbox' });
    expect(list.body).toContain('Hello &lt;b&gt;you&lt;/b&gt;');
    const id = /href="\/dev\/mailbox\/([0-9a-f]{24})"/.exec(list.body)![1];
    const one = await system.app.inject({ url: `/dev/mailbox/${id}` });
    expect(one.body).toContain('<a href="http://localhost:7007/verify?token=abc">');
    expect(one.body).toContain('&lt;script&gt;');
    expect((await system.app.inject({ url: '/dev/mailbox/../../etc' })).statusCode).toBe(404);
  });
});
