import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDecimal, MAX_THRESHOLD_LENGTH, significantDigits, Threshold, TypedThreshold } from './decimal.ts';
import { compareToRatio } from './ratio.ts';

/** A positive plain decimal with any number of leading zeros, as someone might type it. */
const typedDecimal = fc
  .tuple(fc.nat({ max: 30 }), fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.option(fc.stringMatching(/^\d{1,12}$/)))
  .map(([zeros, whole, fraction]) => `${'0'.repeat(zeros)}${whole}${fraction === null ? '' : `.${fraction}`}`)
  .filter((v) => /[1-9]/.test(v));

describe('canonicalDecimal', () => {
  it.each([
    ['1.0825', '1.0825'],
    ['150', '150'],
    ['001.5', '1.5'],
    ['0.50', '0.50'],
    ['00.5', '0.5'],
    ['000', '0'],
    ['0100.010', '100.010'],
    [`${'0'.repeat(60_000)}1.11`, '1.11'],
  ])('%s → %s', (typed, canonical) => {
    expect(canonicalDecimal(typed)).toBe(canonical);
  });

  it('keeps the exact value (compared by the ratio maths) and never adds a character', () => {
    fc.assert(
      fc.property(typedDecimal, (typed) => {
        const canonical = canonicalDecimal(typed);
        // canonical·1 against typed: exactly equal, no rounding anywhere.
        expect(compareToRatio(canonical, '1', typed)).toBe(0);
        expect(canonical.length).toBeLessThanOrEqual(typed.length);
        expect(significantDigits(canonical)).toBe(significantDigits(typed));
      }),
      { numRuns: 500 },
    );
  });

  it('is idempotent and leaves a value without leading zeros as typed', () => {
    fc.assert(
      fc.property(typedDecimal, (typed) => {
        const canonical = canonicalDecimal(typed);
        expect(canonicalDecimal(canonical)).toBe(canonical);
        expect(canonical).toMatch(/^(0|[1-9]\d*)(\.\d+)?$/);
        if (!/^0\d/.test(typed)) expect(canonical).toBe(typed);
      }),
      { numRuns: 500 },
    );
  });
});

describe('thresholds', () => {
  it('what a person types is made canonical, and the result is what commands and events accept', () => {
    fc.assert(
      fc.property(typedDecimal, fc.constantFrom('', ' ', '\t'), (typed, padding) => {
        const parsed = TypedThreshold.safeParse(`${padding}${typed}${padding}`);
        const fits = typed.length + 2 * padding.length <= MAX_THRESHOLD_LENGTH && significantDigits(typed) <= 18;
        expect(parsed.success).toBe(fits);
        if (!parsed.success) return;
        expect(parsed.data).toBe(canonicalDecimal(typed));
        expect(compareToRatio(parsed.data, '1', typed)).toBe(0);
        expect(Threshold.safeParse(parsed.data)).toEqual({ success: true, data: parsed.data });
      }),
      { numRuns: 500 },
    );
  });

  it('commands and events refuse a threshold that is not canonical', () => {
    expect(Threshold.safeParse('001.5').error?.issues[0]?.message).toMatch(/without leading zeros/);
    expect(Threshold.safeParse('0.50').success).toBe(true);
    expect(Threshold.safeParse(' 1.5').success).toBe(false);
  });

  it('refuses more than 40 characters before any other check reads the value', () => {
    const longest = `0.${'0'.repeat(20)}123456789012345678`;
    expect(longest).toHaveLength(MAX_THRESHOLD_LENGTH);
    expect(TypedThreshold.safeParse(longest).success).toBe(true);
    expect(Threshold.safeParse(longest).success).toBe(true);
    for (const schema of [TypedThreshold, Threshold]) {
      for (const hostile of [
        `${'0'.repeat(60_000)}1.11`,
        `0.${'0'.repeat(60_000)}1`,
        `${longest}0`,
        ` ${'x'.repeat(MAX_THRESHOLD_LENGTH)}`,
      ]) {
        const issues = schema.safeParse(hostile).error?.issues;
        expect(issues, hostile.slice(0, 50)).toHaveLength(1);
        expect(issues?.[0]?.message).toBe('Use at most 40 characters, like 1.0825');
      }
    }
  });
});
