import { describe, expect, it } from 'vitest';
import { event } from '../../../events/index.ts';
import { activityLine } from './activityLine.ts';

const triggered = (previousRatio: string, currentRatio: string, direction: 'up' | 'down') =>
  event('AlertTriggered', {
    alertId: 'a1',
    userId: 'u1',
    runSeq: 7,
    base: 'GBP',
    quote: 'JPY',
    threshold: '187.5',
    previousRatio,
    currentRatio,
    direction,
  });

describe('activityLine', () => {
  it('shows a trigger’s ratios as the alerts page does, not as the 20-digit quotients the log keeps', () => {
    expect(activityLine(triggered('187.43112947658402204', '187.59182736455463728', 'up'))?.summary).toBe(
      'Alert GBP/JPY at 187.5 triggered: 187.431 → 187.592, crossed upward ↑',
    );
  });

  it('keeps the digits that tell a ratio from its threshold', () => {
    expect(activityLine(triggered('187.50000000000000001', '187.4999999', 'down'))?.summary).toBe(
      'Alert GBP/JPY at 187.5 triggered: 187.50000000000000001 → 187.4999999, crossed downward ↓',
    );
  });
});
