import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDestination, RefusedDestination, type DestinationPolicy, type Resolve } from './destination.ts';
import { guardedAgent, guardedPost } from './guardedPost.ts';

const strict: DestinationPolicy = { allowHttp: false, allowPrivate: false };
const httpOnly: DestinationPolicy = { allowHttp: true, allowPrivate: false };

/** A resolver of test names: what a hostile DNS could answer. */
const names: Record<string, string[]> = {
  'public.test': ['93.184.215.14'],
  'loopback.test': ['127.0.0.1'],
  'private.test': ['10.0.0.7'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['93.184.215.14', '192.168.1.1'],
  'v6loopback.test': ['::1'],
  'v6mapped.test': ['::ffff:127.0.0.1'],
  'v6ula.test': ['fd00:ec2::254'],
};
const resolve: Resolve = async (host) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const refusal = (url: string, policy = strict) =>
  checkDestination(url, policy, resolve).then(
    () => undefined,
    (error: unknown) => (error instanceof RefusedDestination ? error.message : `unexpected: ${String(error)}`),
  );

describe('a webhook URL is refused at save time, with the reason, when it leads anywhere but the public internet', () => {
  it.each([
    ['http://public.test/hook', /https/],
    ['https://127.0.0.1/hook', /loopback/],
    ['https://127.1/hook', /loopback/],
    ['https://2130706433/hook', /loopback/], // decimal
    ['https://0177.0.0.1/hook', /loopback/], // octal
    ['https://0x7f.0.0.1/hook', /loopback/], // hex
    ['https://017700000001/hook', /loopback/], // one octal number
    ['https://10.0.0.1/hook', /private/],
    ['https://172.16.5.4/hook', /private/],
    ['https://192.168.0.1/hook', /private/],
    ['https://169.254.169.254/latest/meta-data', /linkLocal/], // cloud metadata
    ['https://100.64.0.1/hook', /carrierGradeNat/],
    ['https://0.0.0.0/hook', /unspecified/],
    ['https://224.0.0.1/hook', /multicast/],
    ['https://255.255.255.255/hook', /broadcast/],
    ['https://[::1]/hook', /loopback/],
    ['https://[::]/hook', /unspecified/],
    ['https://[::ffff:127.0.0.1]/hook', /loopback/], // IPv4-mapped
    ['https://[::ffff:a9fe:a9fe]/hook', /linkLocal/], // IPv4-mapped metadata, in hex
    ['https://[fe80::1]/hook', /linkLocal/],
    ['https://[fd00:ec2::254]/hook', /uniqueLocal/],
    ['https://[ff02::1]/hook', /multicast/],
    ['https://[64:ff9b::7f00:1]/hook', /rfc6052/], // NAT64 of 127.0.0.1
    ['https://[2002:7f00:1::]/hook', /6to4/],
    ['https://localhost/hook', /public internet/],
    ['https://intranet/hook', /public internet/],
    ['https://loopback.test/hook', /resolves to .*loopback/],
    ['https://private.test/hook', /resolves to .*private/],
    ['https://metadata.test/hook', /resolves to .*linkLocal/],
    ['https://mixed.test/hook', /resolves to .*private/], // one private answer among public ones
    ['https://v6loopback.test/hook', /resolves to .*loopback/],
    ['https://v6mapped.test/hook', /resolves to .*loopback/],
    ['https://v6ula.test/hook', /resolves to .*uniqueLocal/],
    ['https://nowhere.test/hook', /not found/],
  ])('%s', async (url, reason) => {
    expect(await refusal(url)).toMatch(reason);
  });

  it('takes a public https URL, and http only where WEBHOOK_ALLOW_HTTP allows it', async () => {
    expect(await refusal('https://public.test/hook')).toBeUndefined();
    expect(await refusal('https://[2606:4700::1111]/hook')).toBeUndefined();
    expect(await refusal('http://public.test/hook', httpOnly)).toBeUndefined();
    expect(await refusal('http://127.0.0.1/hook', httpOnly)).toMatch(/loopback/);
    expect(await refusal('http://127.0.0.1/hook', { allowHttp: true, allowPrivate: true })).toBeUndefined();
  });
});

describe('at send time the same rules hold, on the address the connection really uses', () => {
  let receiver: Server;
  let redirected: Server;
  const hits = { receiver: 0, redirected: 0 };
  let port = 0;
  let redirectedPort = 0;
  beforeAll(async () => {
    redirected = createServer((req, res) => (hits.redirected++, res.end('secret')));
    await new Promise<void>((r) => redirected.listen(0, '127.0.0.1', r));
    redirectedPort = (redirected.address() as AddressInfo).port;
    receiver = createServer((req, res) => {
      hits.receiver++;
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${redirectedPort}/` }).end();
      else res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => receiver.close(r));
    await new Promise((r) => redirected.close(r));
  });

  const post = (url: string, policy: DestinationPolicy, names?: Resolve) =>
    guardedPost(guardedAgent(policy, undefined, names ?? resolve), policy, url, '{}', {});

  it('refuses a literal private address and a name that resolves to one, without connecting', async () => {
    const before = hits.receiver;
    expect(await post(`http://127.0.0.1:${port}/`, httpOnly)).toMatchObject({
      answered: false,
      reason: 'refused destination',
      detail: expect.stringMatching(/loopback/),
    });
    expect(await post(`http://loopback.test:${port}/`, httpOnly)).toMatchObject({
      answered: false,
      reason: 'refused destination',
      detail: expect.stringMatching(/loopback/),
    });
    expect(hits.receiver).toBe(before);
  });

  it('connects to the address its own lookup checked: a name that turns private after a check is refused (rebinding)', async () => {
    let lookups = 0;
    const rebinding: Resolve = async () => [{ address: lookups++ === 0 ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    // The save-time check saw a public address; the send's own lookup sees 127.0.0.1 and refuses to connect.
    await checkDestination(`http://rebind.test:${port}/`, httpOnly, rebinding);
    const before = hits.receiver;
    expect(await post(`http://rebind.test:${port}/`, httpOnly, rebinding)).toMatchObject({
      answered: false,
      reason: 'refused destination',
    });
    expect(hits.receiver).toBe(before);
  });

  it('takes a host that has no address at send time for a passing failure (retried), not a refusal', async () => {
    expect(await post(`http://nowhere.test:${port}/`, httpOnly)).toMatchObject({
      answered: false,
      reason: 'connection failed',
    });
  });

  it('follows no redirect: a 302 to a private address is an answer, and that address never hears from us', async () => {
    const allowed = { allowHttp: true, allowPrivate: true };
    expect(await post(`http://127.0.0.1:${port}/redirect`, allowed)).toMatchObject({ answered: true, status: 302 });
    expect(hits.redirected).toBe(0);
  });
});
