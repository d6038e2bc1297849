import {
  AlertDirection,
  AlertKind,
  AlertRepeat,
  ExpiryDate,
  MAX_CHANGE_RUNS,
  TypedPercent,
  TypedThreshold,
  type AlertRuleFields,
} from '../../events/index.ts';
import type { FieldErrors } from '../shared/forms.ts';
import { typed } from '../shared/respond.ts';

/** An alert's rule as its forms send it (creating and editing): every field as typed, for showing the form again. */
export type RuleFormValues = {
  kind?: string;
  threshold?: string;
  percent?: string;
  runs?: string;
  direction?: string;
  repeat?: string;
  expires?: string;
};
export const RULE_FIELDS = ['kind', 'threshold', 'percent', 'runs', 'direction', 'repeat', 'expires'] as const;

/** The rule fields of a form body as typed (for re-display). */
export function ruleValues(body: unknown): RuleFormValues {
  return Object.fromEntries(RULE_FIELDS.map((name) => [name, typed(body, name)]));
}

const firstIssue = (error: { issues: { message: string }[] }) => error.issues[0]?.message ?? 'Not valid';

/**
 * The rule a form asks for (docs/design.md §4b), or a message beside each field that is wrong. An empty or missing
 * choice is its default (threshold, either way, every time, no expiry, 1 run): a form without the newer fields sets
 * the alert it always set. The fields of the kind not chosen are ignored (both show when JavaScript is off).
 */
export function ruleFromForm(body: unknown): { ok: true; rule: AlertRuleFields } | { ok: false; errors: FieldErrors } {
  const value = (name: (typeof RULE_FIELDS)[number]) => typed(body, name).trim();
  const errors: FieldErrors = {};
  const choice = <T extends string>(
    name: 'kind' | 'direction' | 'repeat',
    schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } },
    fallback: T,
    message: string,
  ): T => {
    const given = value(name);
    if (given === '') return fallback;
    const parsed = schema.safeParse(given);
    if (parsed.success) return parsed.data;
    errors[name] = message;
    return fallback;
  };
  const kind = choice('kind', AlertKind, 'threshold', 'Choose a threshold alert or a change alert');
  const direction = choice('direction', AlertDirection, 'either', 'Choose either way, upward or downward');
  const repeat = choice('repeat', AlertRepeat, 'every', 'Choose every time or once');
  const rule: AlertRuleFields = { kind, direction, repeat };

  const expires = value('expires');
  if (expires !== '') {
    const parsed = ExpiryDate.safeParse(expires.slice(0, 10) === expires ? expires : '');
    if (parsed.success) rule.expires = parsed.data;
    else errors.expires = expires.length > 10 ? 'Use a date like 2026-12-31' : firstIssue(parsed.error);
  }

  if (kind === 'threshold') {
    // The raw body, not the 200-character copy: the threshold's own rule checks its length first.
    const parsed = TypedThreshold.safeParse(rawString(body, 'threshold'));
    if (parsed.success) rule.threshold = parsed.data;
    else errors.threshold = firstIssue(parsed.error);
  } else {
    const parsed = TypedPercent.safeParse(rawString(body, 'percent'));
    if (parsed.success) rule.percent = parsed.data;
    else errors.percent = firstIssue(parsed.error);
    const runs = value('runs');
    if (runs === '') rule.runs = 1;
    else if (/^\d{1,2}$/.test(runs) && Number(runs) >= 1 && Number(runs) <= MAX_CHANGE_RUNS) rule.runs = Number(runs);
    else errors.runs = `Use a whole number of runs from 1 to ${MAX_CHANGE_RUNS}`;
  }
  return Object.keys(errors).length === 0 ? { ok: true, rule } : { ok: false, errors };
}

/** A field of the body as sent when it is one string; anything else (absent, repeated) reads as empty. */
function rawString(body: unknown, name: string): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : '';
}
