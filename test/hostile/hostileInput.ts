import fc from 'fast-check';
import { expect } from 'vitest';
import { event, subjects, type DomainEvent } from '../../events/index.ts';
import { waitForProjection } from '../../platform/projectionWait.ts';
import { linkToken } from '../../platform/tokens.ts';
import { userIdFor } from '../../services/command/user/userState.ts';
import type { TestSystem } from '../system.ts';
import { webClient, type WebClient } from '../webClient.ts';

/** Markup that must come back escaped wherever a page or an email shows what was typed. */
export const MARKUP = [
  '<xss-probe>',
  '"><xss-probe>',
  "'><xss-probe>",
  '" data-xss-probe="1',
  "' data-xss-probe='1",
  '</textarea></title><xss-probe>',
  '<script>xss-probe()</script>',
  '<img src=x onerror=xss-probe>',
  '`${xss-probe}`',
];

/** What a page must never contain after being given MARKUP: markup of ours would have been escaped. */
export function expectMarkupEscaped(html: string, where: string): void {
  for (const raw of ['<xss-probe', 'data-xss-probe="', "data-xss-probe='", '<script>xss-probe', '<img src=x onerror']) {
    expect(html.includes(raw), `${where} shows "${raw}" unescaped`).toBe(false);
  }
}

/** Strings that break naive code: encodings, invisible and combining characters, lookalikes, lone surrogates, numbers that are not. */
export const UNICODE_EDGES = [
  '', ' ', '\t', '\u0000', '\u0007', '\r\n', '\uD800', '\uDFFF', '\uFFFE', '\uFEFF', '\u202E', '\u200B', '\u200D', '\u2028',
  'e\u0301', 'a\u0308\u0308\u0308\u0308', '𝒳', '👩‍👩‍👧‍👦', '🏳️‍⚧️', 'İ', 'ı', 'K', 'ß', 'ﬃ', 'Ω', 'ǅ', 'раураl', 'ｅｘａｍｐｌｅ',
  '١٢٣', '１２３', '1e5', '-1', '0', '0.0', 'NaN', 'Infinity', '1,5', '1.5.5', '.5', '5.', '+1', '0x10', '١.٠٨',
  '%00', '%', '%zz', '&amp;', '&#0;', '<!--', ']]>', '${7*7}', '{{7*7}}', "' OR '1'='1", '../../etc/passwd', 'null', 'undefined', '__proto__', 'constructor',
  'a'.repeat(257), 'x'.repeat(10_000),
];

/** Anything a person or a script might type into a field. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...UNICODE_EDGES),
  fc.constantFrom(...MARKUP),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...MARKUP), fc.constantFrom(...UNICODE_EDGES)).map((parts) => parts.join('')),
);

/** A form: its fields (some left out, some extra), each with hostile text. */
export const hostileForm = (fields: readonly string[]): fc.Arbitrary<Record<string, string>> =>
  fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, hostileText])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('extra', 'admin', 'userId', '__proto__', 'constructor', '_csrf2'), hostileText, { maxKeys: 2 }),
    )
    .map(([form, extra]) => Object.fromEntries(Object.entries({ ...extra, ...form }).filter((e): e is [string, string] => e[1] !== undefined)));

/** Register and verify (the token computed as the notifier would put it in the email), by commands. */
export async function registeredUser(system: TestSystem, username: string, password: string): Promise<string> {
  const reply = await system.send('RequestRegistration', { username, email: `${username}@example.test`, password });
  if (!reply.ok) throw new Error(`could not register ${username}: ${reply.error}`);
  const userId = userIdFor(username);
  const { history } = await system.world.store.load(subjects.user(system.world.ns, userId));
  const requested = history.flatMap((h) => h.events).find((e) => e.type === 'RegistrationRequested');
  if (requested?.type !== 'RegistrationRequested') throw new Error('no RegistrationRequested');
  const verified = await system.send('VerifyRegistration', { token: linkToken(system.linkSecret, 'verify', userId, requested.data.tokenNonce) });
  if (!verified.ok) throw new Error(`could not verify ${username}: ${verified.error}`);
  await waitForProjection(system.world.pool, system.world.schema, verified.seq, 5_000);
  return userId;
}

/** A registered user, logged in through the login form. */
export async function registeredBrowser(system: TestSystem, username: string, password: string, options: { ip?: string; htmx?: boolean } = {}): Promise<{ browser: WebClient; userId: string }> {
  const userId = await registeredUser(system, username, password);
  const browser = webClient(system.app, options);
  await browser.get('/login');
  const login = await browser.post('/login', { username, password });
  if (login.status !== 303) throw new Error(`could not log in ${username}: ${login.status}`);
  return { browser, userId };
}

/** A rates run in the log and the read models, so the alerts form offers currencies. */
export async function publishRates(system: TestSystem, asOf: string, rates: Record<string, string>): Promise<number> {
  const events: DomainEvent[] = [event('RatesFetched', { provider: 'frankfurter', base: 'EUR', asOf, fetchedAt: new Date().toISOString(), rates: { EUR: '1', ...rates } })];
  const { seq } = await system.world.store.append(subjects.rates(system.world.ns, 'frankfurter', asOf), events, {
    expectedSeq: 0,
    msgId: `rates-frankfurter-${asOf}`,
    meta: { occurredAt: new Date().toISOString(), correlationId: asOf, causationId: asOf },
  });
  await waitForProjection(system.world.pool, system.world.schema, seq, 5_000);
  return seq;
}
