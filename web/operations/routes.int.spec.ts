import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevMailbox } from '../../platform/devMailbox.ts';
import { createMetrics } from '../../platform/metrics.ts';
import { startTestSystem, type TestSystem } from '../../test/system.ts';

let system: TestSystem;
/** The same system's web as a deployment runs it: https, a metrics token, no dev mailbox. */
let deployed: FastifyInstance;
const mailbox = new DevMailbox(join(mkdtempSync(join(tmpdir(), 'cra-mailbox-')), 'mailbox'));
const METRICS_TOKEN = 'metrics-token_that.is~long+enough/for=';
let natsUp = true;

beforeAll(async () => {
  // Behind a trusted proxy on this machine, as TRUST_PROXY=loopback says: its X-Forwarded-For gives request.ip.
  system = await startTestSystem({
    web: { metrics: createMetrics(), devMailbox: mailbox, natsIsConnected: () => natsUp, trustProxy: ['loopback'] },
  });
  deployed = await system.anotherWeb({
    publicUrl: 'https://cra.example.com',
    metrics: createMetrics(),
    metricsToken: METRICS_TOKEN,
    trustProxy: true,
  });
});
afterAll(async () => {
  await deployed?.close();
  await system?.close();
});

type From = { remoteAddress: string; headers?: Record<string, string> };
/** A client elsewhere on the network, and one on the network that a proxy on this machine forwards. */
const remote: From = { remoteAddress: '192.0.2.7' };
const forwarded: From = { remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } };
const here: From = { remoteAddress: '127.0.0.1' };

describe('operations pages', () => {
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
    expect(res.body).toMatch(
      /cra_http_request_duration_seconds_count\{method="GET",route="\/login",status="200"\} \d+/,
    );
    expect(res.body).toContain('cra_projector_lag_events');
  });

  it('without METRICS_TOKEN shows metrics to this machine only: elsewhere, and forwarded by a proxy, there is nothing there', async () => {
    for (const from of [remote, forwarded]) {
      const res = await system.app.inject({ url: '/metrics', ...from });
      expect(res.statusCode, JSON.stringify(from)).toBe(404);
      expect(res.body).toBe((await system.app.inject({ url: '/nothing-here', ...from })).body);
      expect(res.body).not.toContain('cra_');
    }
  });

  it('with METRICS_TOKEN shows metrics to its bearer only, wherever from, and to nobody else, this machine included', async () => {
    for (const from of [here, remote, forwarded]) {
      const res = await deployed.inject({
        url: '/metrics',
        ...from,
        headers: { ...from.headers, authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(res.statusCode, JSON.stringify(from)).toBe(200);
      expect(res.body).toContain('cra_http_request_duration_seconds');
    }
    for (const authorization of [
      undefined,
      `Bearer ${METRICS_TOKEN}x`,
      `Bearer ${METRICS_TOKEN.slice(0, -1)}`,
      `Basic ${METRICS_TOKEN}`,
      METRICS_TOKEN,
      'Bearer ',
    ]) {
      const res = await deployed.inject({
        url: '/metrics',
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(res.body).not.toContain('cra_');
    }
    expect(
      (await deployed.inject({ url: '/metrics', headers: { authorization: `bearer ${METRICS_TOKEN}` } })).statusCode,
    ).toBe(200);
  });

  it('sends HSTS when the site is https, and not on http', async () => {
    expect((await deployed.inject({ url: '/login' })).headers['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    );
    expect((await system.app.inject({ url: '/login' })).headers['strict-transport-security']).toBeUndefined();
  });

  it('shows the dev mailbox with escaped content and clickable links', async () => {
    await mailbox.deliver({
      from: 'CRA <a@b>',
      to: 'x@example.com',
      subject: 'Hello <b>you</b>',
      text: 'Open http://localhost:7007/verify?token=abc <script>',
      html: '<p>hi</p>',
      messageId: '<m1@b>',
    });
    const list = await system.app.inject({ url: '/dev/mailbox' });
    expect(list.body).toContain('Hello &lt;b&gt;you&lt;/b&gt;');
    const id = /href="\/dev\/mailbox\/([0-9a-f]{24})"/.exec(list.body)![1];
    const one = await system.app.inject({ url: `/dev/mailbox/${id}` });
    expect(one.body).toContain('<a href="http://localhost:7007/verify?token=abc">');
    expect(one.body).toContain('&lt;script&gt;');
    expect((await system.app.inject({ url: '/dev/mailbox/../../etc' })).statusCode).toBe(404);
  });

  it('hides the dev mailbox from a client elsewhere and from one a trusted proxy forwards', async () => {
    await mailbox.deliver({
      from: 'CRA <a@b>',
      to: 'victim@example.com',
      subject: 'Reset your password',
      text: 'http://localhost:7007/password/reset?token=live',
      html: '',
      messageId: '<m2@b>',
    });
    const id = /href="\/dev\/mailbox\/([0-9a-f]{24})"/.exec(
      (await system.app.inject({ url: '/dev/mailbox' })).body,
    )![1];
    for (const from of [remote, forwarded]) {
      for (const url of ['/dev/mailbox', `/dev/mailbox/${id}`]) {
        const res = await system.app.inject({ url, ...from });
        expect(res.statusCode, `${url} ${JSON.stringify(from)}`).toBe(404);
        expect(res.body).not.toContain('victim');
      }
    }
    expect((await deployed.inject({ url: '/dev/mailbox' })).statusCode).toBe(404);
  });
});
