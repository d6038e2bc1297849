import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalDecimal, TypedThreshold, type EventOf } from '../../events/index.ts';
import { compareToRatio } from '../../events/ratio.ts';
import { expectNoSecretsIn, logText, readLog } from '../faults/support/invariants.ts';
import { startTestSystem, TEST_SECRET, type TestSystem } from '../system.ts';
import { webClient, type WebClient } from '../webClient.ts';
import { registeredBrowser } from '../testUsers.ts';
import { projectedRun } from '../runs.ts';
import { expectMarkupEscaped, hostileForm, hostileText, MARKUP, UNICODE_EDGES } from './hostileInput.ts';

// Hostile input over every form and route: never a 5xx, never a partial write, markup always escaped.
let system: TestSystem;
let owner: { browser: WebClient; userId: string };
const PASSWORD = 'the owner password 1';
const relaxed = { max: 1_000_000, timeWindowMs: 60_000 };

beforeAll(async () => {
  // Rate limits relaxed so that every request reaches its handler (they are attacked in sessions.e2e.spec.ts).
  system = await startTestSystem({
    notifier: false,
    web: {
      rateLimits: {
        loginPerClient: relaxed,
        loginPerUsername: relaxed,
        registerPerClient: relaxed,
        emailLinksPerClient: relaxed,
        tokenLinksPerClient: relaxed,
        emailChangesPerAccount: relaxed,
      },
      // No hostile host name reaches this machine's DNS: every one is unknown (the SSRF rules: platform/webhookHttp).
      webhooks: {
        policy: { allowHttp: false, allowPrivate: false },
        resolve: async () => {
          throw new Error('not found');
        },
      },
    },
  });
  owner = await registeredBrowser(system, 'hostile-owner', PASSWORD);
  await projectedRun(system.world, '2026-11-02', { USD: '1.08', JPY: '163.4', GBP: '0.86' });
  expect(
    (
      await system.send('SetAlert', {
        userId: owner.userId,
        alertId: 'ownersAlert1',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.1',
      })
    ).ok,
  ).toBe(true);
  // Edited by the escaping test alone: the random forms may delete ownersAlert1 (its confirm field may be "yes").
  expect(
    (
      await system.send('SetAlert', {
        userId: owner.userId,
        alertId: 'ownersAlert2',
        base: 'EUR',
        quote: 'USD',
        threshold: '1.2',
      })
    ).ok,
  ).toBe(true);
  expect(
    (
      await system.send('AddChannel', {
        userId: owner.userId,
        channelId: 'ownersChannel1',
        url: 'https://hooks.example.com/owner',
        format: 'json',
      })
    ).ok,
  ).toBe(true);
  await owner.browser.get('/alerts');
}, 60_000);

afterAll(async () => system?.close());

type Request = {
  method: InjectOptions['method'];
  url: string;
  payload?: string | Buffer;
  contentType?: string;
  as?: WebClient | 'nobody';
  headers?: Record<string, string>;
};

const cookieOf = (browser: WebClient) => [...browser.jar].map(([k, v]) => `${k}=${v}`).join('; ');
const urlencoded = (form: Record<string, string>) => new URLSearchParams(form).toString();
/** Percent-encode the UTF-8 bytes of any string, lone surrogates included (encodeURIComponent throws on those). */
const percentEncoded = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Send one request (as the logged-in owner with the page's CSRF token, as another browser, or as nobody) and hold the answer to the rules. */
async function attempt(request: Request) {
  const before = await system.world.store.lastSeq();
  const as = request.as ?? owner.browser;
  const res = await system.app.inject({
    method: request.method,
    url: request.url,
    remoteAddress: '127.0.0.1',
    headers: {
      ...(as === 'nobody' ? {} : { cookie: cookieOf(as), 'x-csrf-token': as.csrf() }),
      ...(request.contentType ? { 'content-type': request.contentType } : {}),
      ...request.headers,
    },
    ...(request.payload !== undefined ? { payload: request.payload } : {}),
  });
  const what = `${request.method} ${request.url.slice(0, 80)} ${request.contentType ?? ''} → ${res.statusCode}`;
  expect(res.statusCode, `${what}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
  // Refused means refused whole: nothing reached the log.
  if (res.statusCode >= 400) expect(await system.world.store.lastSeq(), `${what} wrote to the log`).toBe(before);
  expectMarkupEscaped(res.body, what);
  if (/text\/html/.test(String(res.headers['content-type'])))
    expect(res.body, what).not.toMatch(/\bat \S+\.ts:\d+|ECONNREFUSED|ERR_[A-Z_]{3,}/);
  return res;
}

const FORMS = [
  { url: '/register', fields: ['username', 'email', 'password'] },
  { url: '/register/resend', fields: ['username'] },
  { url: '/login', fields: ['username', 'password'] },
  { url: '/password/forgot', fields: ['email'] },
  { url: '/password/reset', fields: ['token', 'password'] },
  {
    url: '/alerts',
    fields: ['commandId', 'base', 'quote', 'kind', 'threshold', 'percent', 'runs', 'direction', 'repeat', 'expires'],
  },
  // Editing the owner's alert: the same rule fields, the pair staying.
  { url: '/alerts/ownersAlert1', fields: ['kind', 'threshold', 'percent', 'runs', 'direction', 'repeat', 'expires'] },
  { url: '/alerts/ownersAlert1/pause', fields: [] },
  { url: '/alerts/ownersAlert1/resume', fields: [] },
  { url: '/alerts/ownersAlert1/rearm', fields: [] },
  { url: '/alerts/ownersAlert1/delete', fields: ['confirm'] },
  { url: '/alerts/emails', fields: ['paused', 'retry'] },
  { url: '/channels', fields: ['commandId', 'url', 'format'] },
  { url: '/channels/ownersChannel1/test', fields: [] },
  { url: '/channels/ownersChannel1/pause', fields: [] },
  { url: '/channels/ownersChannel1/resume', fields: [] },
  { url: '/channels/ownersChannel1/delete', fields: ['confirm'] },
  { url: '/unsubscribe', fields: [] },
  { url: '/account/password', fields: ['currentPassword', 'newPassword'] },
  { url: '/account/sessions/end-others', fields: [] },
  { url: '/account/email', fields: ['email', 'password'] },
  // The owner's password is never among what is typed here: every attempt is refused, and the account stays.
  { url: '/account/delete', fields: ['password'] },
] as const;

describe('hostile input to every form and route', () => {
  it('any text in any field of any form: a 2xx, 3xx or 4xx answer, nothing half-written, markup escaped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FORMS).chain((f) => hostileForm(f.fields).map((form) => ({ url: f.url, form }))),
        fc.boolean(),
        async ({ url, form }, htmx) => {
          const res = await attempt({
            method: 'POST',
            url,
            payload: urlencoded({ _csrf: owner.browser.csrf(), ...form }),
            contentType: 'application/x-www-form-urlencoded',
          });
          // The same as htmx sends it: the CSRF token in a header, a fragment in answer.
          if (htmx)
            await attempt({
              method: 'POST',
              url,
              payload: urlencoded(form),
              contentType: 'application/x-www-form-urlencoded',
              headers: { 'hx-request': 'true' },
            });
          // A refused form comes back whole, with what was typed (escaped) and a message beside the field.
          if (res.statusCode === 422) expect(res.body).toMatch(/field-error|form-error/);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it('a threshold is stored in canonical form when it is a positive plain decimal of at most 18 digits and 40 characters, and refused whole otherwise', async () => {
    const decimals = fc.oneof(
      fc
        .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.option(fc.stringMatching(/^\d{1,10}$/)))
        .map(([i, f]) => (f === null ? `${i}` : `${i}.${f}`)),
      fc.stringMatching(/^[0-9.]{1,24}$/),
      // Leading zeros, a few or past the length cap: they never counted as digits, so they made thresholds of any size.
      fc
        .tuple(fc.nat({ max: 45 }), fc.stringMatching(/^[0-9.]{1,12}$/))
        .map(([zeros, rest]) => `${'0'.repeat(zeros)}${rest}`),
      fc.constantFrom(`${'0'.repeat(60_000)}1.11`, `0.${'0'.repeat(60_000)}1`),
      hostileText,
    );
    await fc.assert(
      fc.asyncProperty(decimals, async (threshold) => {
        const before = await system.world.store.lastSeq();
        const res = await attempt({
          method: 'POST',
          url: '/alerts',
          payload: urlencoded({ _csrf: owner.browser.csrf(), base: 'EUR', quote: 'JPY', threshold }),
          contentType: 'application/x-www-form-urlencoded',
        });
        const valid = TypedThreshold.safeParse(threshold);
        expect(res.statusCode, `threshold ${JSON.stringify(threshold.slice(0, 60))}`).toBe(valid.success ? 303 : 422);
        if (!valid.success) return;
        const stored = (await readLog(system.world.store))
          .filter((m) => m.seq > before)
          .flatMap((m) => m.events)
          .filter((e): e is EventOf<'AlertSet'> => e.type === 'AlertSet');
        expect(stored.map((e) => e.data.threshold)).toEqual([canonicalDecimal(threshold.trim())]);
        expect(compareToRatio(valid.data, '1', threshold.trim())).toBe(0);
        expect((await system.send('DeleteAlert', { userId: owner.userId, alertId: stored[0]!.data.alertId })).ok).toBe(
          true,
        );
      }),
      { numRuns: 60 },
    );
  }, 90_000);

  it('a body of the wrong type, of any shape, to every form: refused or read as a form, never a 5xx', async () => {
    const bodies = fc.oneof(
      fc.record({ contentType: fc.constant('application/json'), payload: fc.json() }),
      fc.record({
        contentType: fc.constant('application/json'),
        payload: fc.constantFrom(
          '{',
          '[',
          '"',
          '{"username":',
          '\u0000',
          '{"__proto__":{"admin":true}}',
          '{"constructor":{"prototype":{"x":1}}}',
        ),
      }),
      fc.record({
        contentType: fc.constantFrom(
          'text/plain',
          'application/xml',
          'text/html',
          'application/octet-stream',
          'image/png',
        ),
        payload: hostileText,
      }),
      fc.record({
        contentType: fc.constantFrom('multipart/form-data; boundary=xyz', 'multipart/form-data'),
        payload: fc.constantFrom(
          '--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\nabc\r\n--xyz--\r\n',
          'garbage',
        ),
      }),
      fc.record({
        contentType: fc.constantFrom(
          'application/x-www-form-urlencoded; charset=utf-16le',
          'application/x-www-form-urlencoded; charset=latin1',
          'application/x-www-form-urlencoded',
        ),
        payload: fc.constantFrom(
          '%',
          '%zz=%',
          'username=a&username=b&password=%E0%A4%A',
          'a=1&a=2&a=3&_csrf=x',
          '\u00ff\u00fe=',
          '&&&==&=',
          'threshold[]=1&base[x]=EUR',
        ),
      }),
      fc.record({
        contentType: fc.constantFrom(
          '',
          'application/json; charset=utf-32',
          'invalid content type',
          'application/x-www-form-urlencoded;;;',
        ),
        payload: hostileText,
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FORMS), bodies, async (form, body) => {
        await attempt({ method: 'POST', url: form.url, contentType: body.contentType, payload: body.payload });
      }),
      { numRuns: 200 },
    );
  }, 90_000);

  it('huge bodies are refused with a clear 413, nothing written', async () => {
    for (const form of FORMS) {
      for (const size of [64 * 1024 + 1, 5 * 1024 * 1024]) {
        const res = await attempt({
          method: 'POST',
          url: form.url,
          contentType: 'application/x-www-form-urlencoded',
          payload: urlencoded({ _csrf: owner.browser.csrf(), [form.fields[0] ?? 'x']: 'A'.repeat(size) }),
        });
        expect(res.statusCode, `${form.url} with ${size} bytes`).toBe(413);
        expect(res.body).toMatch(/Too large/);
      }
    }
    const json = await attempt({
      method: 'POST',
      url: '/login',
      contentType: 'application/json',
      payload: JSON.stringify({ username: 'x'.repeat(200_000) }),
    });
    expect(json.statusCode).toBe(413);
  }, 60_000);

  it('any path, method, query or id, logged in or not: never a 5xx, markup escaped', async () => {
    const GETS = [
      '/',
      '/register',
      '/register/resend',
      '/login',
      '/password/forgot',
      '/alerts',
      '/alerts/section',
      '/alerts/a0123456789abcdef0123456789abcdef',
      '/alerts/ownersAlert1/edit',
      '/alerts/ownersAlert2/edit',
      '/activity',
      '/channels',
      '/account',
      '/account/export',
      '/account/email',
      '/account/delete',
      '/account/deleted',
      '/healthz',
      '/assets/app.css',
      '/favicon.ico',
    ];
    const TOKENED = ['/verify', '/password/reset', '/unsubscribe', '/login', '/account/email/confirm'];
    const requests = fc.oneof(
      fc.record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        url: fc
          .tuple(fc.webPath(), fc.option(fc.webQueryParameters()))
          .map(([p, q]) => `${p || '/'}${q ? `?${q}` : ''}`),
      }),
      fc.record({
        method: fc.constantFrom('PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        url: fc.constantFrom(...GETS, ...FORMS.map((f) => f.url)),
      }),
      fc.record({
        method: fc.constant('GET'),
        url: fc
          .tuple(fc.constantFrom(...TOKENED), fc.constantFrom('token', 'next', 'token[]', 'x'), hostileText)
          .map(([p, k, v]) => `${p}?${k}=${percentEncoded(v)}`),
      }),
      fc.record({
        method: fc.constantFrom('POST', 'DELETE'),
        url: fc
          .oneof(
            fc.webSegment(),
            hostileText.map(percentEncoded),
            fc.constantFrom('..', '%2e%2e', '%00', 'ownersAlert1%00', 'a'.repeat(300)),
          )
          .map((id) => `/alerts/${id}${id.length % 2 ? '/delete' : ''}`),
      }),
    );
    await fc.assert(
      fc.asyncProperty(requests, fc.boolean(), async (request, loggedIn) => {
        await attempt({
          ...request,
          method: request.method as InjectOptions['method'],
          as: loggedIn ? owner.browser : 'nobody',
        });
      }),
      { numRuns: 400 },
    );
    for (const path of GETS) await attempt({ method: 'GET', url: path });
  }, 90_000);

  it('`/login?next=…` after a good login redirects inside the site, and never fails', async () => {
    const nexts = fc.oneof(
      fc.webPath(),
      hostileText,
      fc.constantFrom(
        '//evil.example',
        '/\\evil.example',
        'https://evil.example',
        'javascript:alert(1)',
        '/alerts',
        '/%2F%2Fevil.example',
        ' /alerts',
        '/\t/evil.example',
      ),
    );
    const guest = webClient(system.app);
    await guest.get('/login');
    await fc.assert(
      fc.asyncProperty(nexts, async (next) => {
        const res = await attempt({
          method: 'POST',
          url: `/login?next=${percentEncoded(next)}`,
          as: guest,
          contentType: 'application/x-www-form-urlencoded',
          payload: urlencoded({ username: 'hostile-owner', password: PASSWORD }),
        });
        expect(res.statusCode).toBe(303);
        const location = String(res.headers.location);
        expect(location, `next=${JSON.stringify(next)}`).toMatch(/^\/[a-z]/);
        expect(location).not.toMatch(/^\/\/|^\/\\/);
      }),
      { numRuns: 30 },
    );
  }, 90_000);

  it('`/login?next=` with a line break or a character beyond Latin-1 is answered without a 5xx', async () => {
    const guest = webClient(system.app);
    await guest.get('/login');
    for (const next of ['/alerts\r\nSet-Cookie: x=1', '/a\u0000', '/alerts\u2028']) {
      const res = await attempt({
        method: 'POST',
        url: `/login?next=${percentEncoded(next)}`,
        as: guest,
        contentType: 'application/x-www-form-urlencoded',
        payload: urlencoded({ username: 'hostile-owner', password: PASSWORD }),
      });
      expect(res.statusCode).toBe(303);
    }
  });

  it('what was typed comes back escaped in the form that refuses it', async () => {
    for (const value of [...MARKUP, ...UNICODE_EDGES.slice(0, 20)]) {
      for (const [url, form] of [
        ['/register', { username: value, email: value, password: 'short' }],
        ['/register/resend', { username: value }],
        ['/login', { username: value, password: '' }],
        ['/password/forgot', { email: value }],
        ['/alerts', { base: value, quote: value, threshold: value }],
        ['/alerts', { base: 'EUR', quote: 'USD', kind: 'change', percent: value, runs: value, expires: value }],
        ['/alerts', { base: 'EUR', quote: 'USD', threshold: '1.2', direction: `${value}!`, repeat: `!${value}` }],
        ['/alerts/ownersAlert2', { threshold: value, expires: value }],
        ['/alerts/ownersAlert2', { kind: 'change', percent: value, runs: value, direction: value }],
        ['/account/password', { currentPassword: value, newPassword: value }],
      ] as const) {
        const res = await attempt({
          method: 'POST',
          url,
          contentType: 'application/x-www-form-urlencoded',
          payload: urlencoded({ _csrf: owner.browser.csrf(), ...form }),
        });
        expect(res.statusCode, `${url} ${JSON.stringify(value)}`).toBe(422);
      }
    }
  }, 60_000);

  it('leaves no password, token or secret in the log', async () => {
    expectNoSecretsIn(
      await logText(system.world.store),
      [PASSWORD, TEST_SECRET, owner.browser.cookie('cra_session')!, owner.browser.csrf()],
      'the log',
    );
  });
});
