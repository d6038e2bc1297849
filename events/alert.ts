import { z } from 'zod';
import { AggregateId } from './ids.ts';
import { CurrencyCode, Percent, Threshold } from './decimal.ts';

// Alert kinds (docs/design.md §4b): what an alert watches for, as its events and commands carry it.

/** `threshold`: the ratio crosses a value; `change`: the ratio moves by a percent over a number of runs. */
export const AlertKind = z.enum(['threshold', 'change']);
/** Which way a move must go to trigger the alert. */
export const AlertDirection = z.enum(['either', 'up', 'down']);
/** `every`: stays active after a trigger; `once`: done after its first trigger until its owner re-arms it. */
export const AlertRepeat = z.enum(['every', 'once']);
/** How many runs back a change alert compares with (counting runs that had both currencies). */
export const ChangeRuns = z.number().int().min(1).max(30);
export const MAX_CHANGE_RUNS = 30;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** A calendar date written YYYY-MM-DD that exists (2026-02-30 does not). */
export function isCalendarDate(value: string): boolean {
  const parts = ISO_DATE.exec(value);
  if (!parts) return false;
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
/** The last rates date an alert may trigger on (a run whose rates date is after it never triggers it). */
export const ExpiryDate = z
  .string()
  .regex(ISO_DATE, 'Use a date like 2026-12-31')
  .refine(isCalendarDate, 'That date does not exist');

/** An alert's rule as events and commands carry it; absent fields are the defaults of alerts set before kinds existed. */
export const alertRuleFields = {
  /** Absent: `threshold`. */
  kind: AlertKind.optional(),
  /** A threshold alert's threshold (and only theirs). */
  threshold: Threshold.optional(),
  /** A change alert's percent (and only theirs). */
  percent: Percent.optional(),
  /** A change alert's runs; absent: 1. */
  runs: ChangeRuns.optional(),
  /** Absent: `either`. */
  direction: AlertDirection.optional(),
  /** Absent: `every`. */
  repeat: AlertRepeat.optional(),
  /** Absent: never expires. */
  expires: ExpiryDate.optional(),
};
export type AlertRuleFields = { [K in keyof typeof alertRuleFields]?: z.infer<(typeof alertRuleFields)[K]> };

/** An alert's rule with every default filled in: what the crossing rule and the pages work with. */
export type AlertRule = {
  direction: z.infer<typeof AlertDirection>;
  repeat: z.infer<typeof AlertRepeat>;
  expires: string | undefined;
} & ({ kind: 'threshold'; threshold: string } | { kind: 'change'; percent: string; runs: number });

/** Where fields of a rule do not fit its kind: the field and why (a threshold alert has a threshold, and so on). */
export function ruleMisfits(fields: AlertRuleFields): { field: string; message: string }[] {
  if ((fields.kind ?? 'threshold') === 'threshold') {
    return [
      ...(fields.threshold === undefined ? [{ field: 'threshold', message: 'Enter a threshold' }] : []),
      ...(fields.percent !== undefined ? [{ field: 'percent', message: 'A threshold alert has no percent' }] : []),
      ...(fields.runs !== undefined ? [{ field: 'runs', message: 'A threshold alert has no runs' }] : []),
    ];
  }
  return [
    ...(fields.percent === undefined ? [{ field: 'percent', message: 'Enter a percent' }] : []),
    ...(fields.threshold !== undefined ? [{ field: 'threshold', message: 'A change alert has no threshold' }] : []),
  ];
}

/** A rule's fields (events, commands) as one rule with its defaults; the fields must fit their kind (ruleMisfits). */
export function alertRule(fields: AlertRuleFields): AlertRule {
  const common = { direction: fields.direction ?? 'either', repeat: fields.repeat ?? 'every', expires: fields.expires };
  if ((fields.kind ?? 'threshold') === 'change')
    return { ...common, kind: 'change', percent: fields.percent!, runs: fields.runs ?? 1 };
  return { ...common, kind: 'threshold', threshold: fields.threshold! };
}

/** A rule as events and commands carry it: every field written out, so the log says what it means without defaults. */
export function ruleFieldsOf(rule: AlertRule): AlertRuleFields {
  const common = { direction: rule.direction, repeat: rule.repeat, ...(rule.expires ? { expires: rule.expires } : {}) };
  return rule.kind === 'threshold'
    ? { kind: 'threshold', threshold: rule.threshold, ...common }
    : { kind: 'change', percent: rule.percent, runs: rule.runs, ...common };
}

/** An object of rule fields that fit their kind: every misfit is an issue on its field. */
export function withFittingRule<T extends z.ZodObject>(schema: T) {
  return schema.superRefine((value, ctx) => {
    for (const misfit of ruleMisfits(value as AlertRuleFields))
      ctx.addIssue({ code: 'custom', path: [misfit.field], message: misfit.message });
  });
}

const owned = { alertId: AggregateId, userId: AggregateId };

// The alert aggregate: one subject per alert.
export const alertEvents = {
  /** A user set an alert on BASE/QUOTE: a threshold to cross, or a change to watch for (its rule, §4b). */
  AlertSet: withFittingRule(z.object({ ...owned, base: CurrencyCode, quote: CurrencyCode, ...alertRuleFields })),
  /** The owner changed the alert's rule (its pair stays); a once alert is armed again by it. */
  AlertEdited: withFittingRule(z.object({ ...owned, ...alertRuleFields })),
  /** The owner paused the alert: it triggers on no run until resumed. */
  AlertPaused: z.object(owned),
  /** The owner resumed a paused alert. */
  AlertResumed: z.object(owned),
  /** The owner re-armed a once alert that was done: it may trigger once more. */
  AlertRearmed: z.object(owned),
  /** The owner deleted the alert; it never triggers again. */
  AlertDeleted: z.object(owned),
} as const;

/**
 * A rule in a few words, after the pair: "at 1.08", "at 1.08, upward only, once, until 2026-12-31", "on a 1.5 % change
 * over 3 runs". A rule of an alert set before kinds reads as it always did ("at 1.08"): history lines stay the same.
 */
export function ruleSummary(rule: AlertRule): string {
  const what =
    rule.kind === 'threshold'
      ? `at ${rule.threshold}`
      : `on a ${rule.percent} % change over ${rule.runs} ${rule.runs === 1 ? 'run' : 'runs'}`;
  const direction = rule.direction === 'either' ? '' : `, ${rule.direction === 'up' ? 'upward' : 'downward'} only`;
  return `${what}${direction}${rule.repeat === 'once' ? ', once' : ''}${rule.expires ? `, until ${rule.expires}` : ''}`;
}
