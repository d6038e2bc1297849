import { describe, expect, it } from 'vitest';
import { alertRule } from '../../events/index.ts';
import { farSideNotice } from './farSide.ts';

const rule = (direction: 'either' | 'up' | 'down') => alertRule({ threshold: '1.08', direction });

describe('the notice for a threshold alert set on the far side of the ratio, or at it', () => {
  it('says so for an upward alert with the ratio above or at its threshold, and a downward one below or at it', () => {
    expect(farSideNotice('EUR/USD', rule('up'), 'above')).toBe(
      'EUR/USD is already above 1.08: this alert triggers when it comes back across, from below.',
    );
    expect(farSideNotice('EUR/USD', rule('down'), 'below')).toBe(
      'EUR/USD is already below 1.08: this alert triggers when it comes back across, from above.',
    );
    expect(farSideNotice('EUR/USD', rule('up'), 'at')).toMatch(/^EUR\/USD is at 1\.08 now: .* from below\.$/);
    expect(farSideNotice('EUR/USD', rule('either'), 'at')).toMatch(/is at 1\.08 now: .*comes back across again\./);
  });

  it('says nothing on the near side, for either way off the threshold, for a change alert or without a ratio', () => {
    expect(farSideNotice('EUR/USD', rule('up'), 'below')).toBeUndefined();
    expect(farSideNotice('EUR/USD', rule('down'), 'above')).toBeUndefined();
    expect(farSideNotice('EUR/USD', rule('either'), 'above')).toBeUndefined();
    expect(farSideNotice('EUR/USD', alertRule({ kind: 'change', percent: '1' }), 'above')).toBeUndefined();
    expect(farSideNotice('EUR/USD', rule('up'), undefined)).toBeUndefined();
  });
});
