import type { AlertRule } from '../../events/index.ts';
import type { Side } from './queries.ts';

/**
 * What to tell someone who just set a threshold alert that the ratio is already past, or at, for its direction
 * (docs/design.md §4b): it triggers only when the ratio crosses, so not until it has come back. Undefined when the
 * alert is set on the near side, is a change alert, or the pair has no ratio yet. `side`: where the ratio is now.
 */
export function farSideNotice(pair: string, rule: AlertRule, side: Side | undefined): string | undefined {
  if (rule.kind !== 'threshold' || side === undefined) return undefined;
  const t = rule.threshold;
  if (side === 'at') {
    const how = rule.direction === 'up' ? 'from below' : rule.direction === 'down' ? 'from above' : 'again';
    return `${pair} is at ${t} now: this alert triggers when it moves away and comes back across ${how}.`;
  }
  if (rule.direction === 'up' && side === 'above')
    return `${pair} is already above ${t}: this alert triggers when it comes back across, from below.`;
  if (rule.direction === 'down' && side === 'below')
    return `${pair} is already below ${t}: this alert triggers when it comes back across, from above.`;
  return undefined;
}
