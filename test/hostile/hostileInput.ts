import fc from 'fast-check';
import { expect } from 'vitest';

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
  '',
  ' ',
  '\t',
  '\u0000',
  '\u0007',
  '\r\n',
  '\uD800',
  '\uDFFF',
  '\uFFFE',
  '\uFEFF',
  '\u202E',
  '\u200B',
  '\u200D',
  '\u2028',
  'e\u0301',
  'a\u0308\u0308\u0308\u0308',
  '𝒳',
  '👩‍👩‍👧‍👦',
  '🏳️‍⚧️',
  'İ',
  'ı',
  'K',
  'ß',
  'ﬃ',
  'Ω',
  'ǅ',
  'раураl',
  'ｅｘａｍｐｌｅ',
  '١٢٣',
  '１２３',
  '1e5',
  '-1',
  '0',
  '0.0',
  'NaN',
  'Infinity',
  '1,5',
  '1.5.5',
  '.5',
  '5.',
  '+1',
  '0x10',
  '١.٠٨',
  '%00',
  '%',
  '%zz',
  '&amp;',
  '&#0;',
  '<!--',
  ']]>',
  '${7*7}',
  '{{7*7}}',
  "' OR '1'='1",
  '../../etc/passwd',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'a'.repeat(257),
  'x'.repeat(10_000),
];

/** Anything a person or a script might type into a field. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(...UNICODE_EDGES),
  fc.constantFrom(...MARKUP),
  fc
    .tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...MARKUP), fc.constantFrom(...UNICODE_EDGES))
    .map((parts) => parts.join('')),
);

/** A form: its fields (some left out, some extra), each with hostile text. */
export const hostileForm = (fields: readonly string[]): fc.Arbitrary<Record<string, string>> =>
  fc
    .tuple(
      fc.record(Object.fromEntries(fields.map((f) => [f, hostileText])) as Record<string, fc.Arbitrary<string>>, {
        requiredKeys: [],
      }),
      fc.dictionary(fc.constantFrom('extra', 'admin', 'userId', '__proto__', 'constructor', '_csrf2'), hostileText, {
        maxKeys: 2,
      }),
    )
    .map(([form, extra]) =>
      Object.fromEntries(
        Object.entries({ ...extra, ...form }).filter((e): e is [string, string] => e[1] !== undefined),
      ),
    );
