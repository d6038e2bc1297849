import { isDeepStrictEqual } from 'node:util';
import { match } from 'ts-pattern';
import {
  alertRule,
  event,
  ruleFieldsOf,
  type AlertEvent,
  type AlertRule,
  type CommandPayload,
} from '../../../events/index.ts';
import { accept, refuse, type Decider, type Decision } from '../decision.ts';

export type AlertState =
  | { status: 'none' }
  | { status: 'active'; userId: string; base: string; quote: string; rule: AlertRule; paused: boolean }
  | { status: 'deleted'; userId: string };

const initialState: AlertState = { status: 'none' };

function evolve(state: AlertState, e: AlertEvent): AlertState {
  return match(e)
    .with({ type: 'AlertSet' }, ({ data }): AlertState => {
      const { userId, base, quote } = data;
      return { status: 'active', userId, base, quote, rule: alertRule(data), paused: false };
    })
    .with({ type: 'AlertEdited' }, ({ data }): AlertState =>
      state.status === 'active' ? { ...state, rule: alertRule(data) } : state,
    )
    .with({ type: 'AlertPaused' }, (): AlertState => (state.status === 'active' ? { ...state, paused: true } : state))
    .with({ type: 'AlertResumed' }, (): AlertState => (state.status === 'active' ? { ...state, paused: false } : state))
    .with({ type: 'AlertRearmed' }, (): AlertState => state)
    .with({ type: 'AlertDeleted' }, ({ data }): AlertState => ({ status: 'deleted', userId: data.userId }))
    .exhaustive();
}

/** Most alerts one user may have at a time. */
export const MAX_ALERTS_PER_USER = 50;

/**
 * What the alert rules need to know beyond the alert's own events: the user's other alerts and the latest run live
 * on other subjects, so the handler reads them from the read models (alertPolicyFacts.ts) and passes them in here.
 */
export type AlertPolicyFacts = {
  /** The user's alerts that are not deleted. */
  activeAlerts: number;
  /** The currencies of the latest run, its provider's base included; undefined before the first run. */
  latestRunCurrencies: readonly string[] | undefined;
};

/** What a rule is checked against beyond itself: today (an expiry date must not have passed). */
export type RuleContext = { now: Date };

export type AlertCommand =
  | { type: 'SetAlert'; data: CommandPayload<'SetAlert'>; metadata: AlertPolicyFacts & RuleContext }
  | { type: 'EditAlert'; data: CommandPayload<'EditAlert'>; metadata: RuleContext }
  | { type: 'PauseAlert'; data: CommandPayload<'PauseAlert'> }
  | { type: 'ResumeAlert'; data: CommandPayload<'ResumeAlert'> }
  | { type: 'RearmAlert'; data: CommandPayload<'RearmAlert'> }
  | { type: 'DeleteAlert'; data: CommandPayload<'DeleteAlert'> };

type Owned = Extract<AlertState, { status: 'active' }>;

/** The owner's alert, not deleted; to anyone else an alert, deleted or not, is as absent as a missing one. */
function ownAlert(state: AlertState, userId: string): Owned | undefined {
  return state.status === 'active' && state.userId === userId ? state : undefined;
}
const noSuchAlert = () => refuse('NOT_FOUND', 'No such alert');

/** An expiry date (rates dates are UTC dates, docs/design.md §4b) that has passed already is refused beside its field. */
function ruleRefusal(rule: AlertRule, { now }: RuleContext): Decision<AlertEvent> | undefined {
  if (rule.expires !== undefined && rule.expires < now.toISOString().slice(0, 10))
    return refuse('INVALID_COMMAND', 'That date has passed: choose today or a later date', ['expires']);
  return undefined;
}

/**
 * A new alert is on two different currencies of the latest run (the ones a ratio can be shown for, and the form
 * offers), and a user has at most MAX_ALERTS_PER_USER. The same alert set again is not new: it already exists.
 */
function setAlert(command: Extract<AlertCommand, { type: 'SetAlert' }>, state: AlertState): Decision<AlertEvent> {
  const { data, metadata } = command;
  if (state.status !== 'none') return refuse('ALREADY_EXISTS', 'That alert already exists');
  const known = metadata.latestRunCurrencies;
  if (!known)
    return refuse(
      'UNKNOWN_CURRENCY',
      'No rates have been fetched yet, so there are no currencies to choose from. Try again after the first fetch.',
      ['base'],
    );
  const unknown = (['base', 'quote'] as const).filter((field) => !known.includes(data[field]));
  if (unknown.length > 0) return refuse('UNKNOWN_CURRENCY', 'Choose a currency from the list', unknown);
  if (data.base === data.quote)
    return refuse('INVALID_COMMAND', 'Choose a currency different from the base currency', ['quote']);
  const rule = alertRule(data);
  const refused = ruleRefusal(rule, metadata);
  if (refused) return refused;
  if (metadata.activeAlerts >= MAX_ALERTS_PER_USER) {
    return refuse(
      'TOO_MANY_ALERTS',
      `You have ${metadata.activeAlerts} alerts, the most allowed. Delete one to set another.`,
    );
  }
  const { alertId, userId, base, quote } = data;
  return accept([event('AlertSet', { alertId, userId, base, quote, ...ruleFieldsOf(rule) })], { alertId });
}

/** The owner changes the rule; the same rule again changes nothing and records nothing. */
function editAlert({ data, metadata }: Extract<AlertCommand, { type: 'EditAlert' }>, state: AlertState) {
  const alert = ownAlert(state, data.userId);
  if (!alert) return noSuchAlert();
  const rule = alertRule(data);
  const refused = ruleRefusal(rule, metadata);
  if (refused) return refused;
  if (isDeepStrictEqual(rule, alert.rule)) return accept<AlertEvent>([]);
  const { alertId, userId } = data;
  return accept<AlertEvent>([event('AlertEdited', { alertId, userId, ...ruleFieldsOf(rule) })]);
}

/** Pausing a paused alert, or resuming an active one, is done already: nothing new to record. */
function pauseOrResume(
  { type, data }: Extract<AlertCommand, { type: 'PauseAlert' | 'ResumeAlert' }>,
  state: AlertState,
): Decision<AlertEvent> {
  const alert = ownAlert(state, data.userId);
  if (!alert) return noSuchAlert();
  const pausing = type === 'PauseAlert';
  if (alert.paused === pausing) return accept([]);
  const owned = { alertId: data.alertId, userId: data.userId };
  return accept([pausing ? event('AlertPaused', owned) : event('AlertResumed', owned)]);
}

/** Only a once alert is armed again (an every-time alert never stops); whether it is done is the notifier's to know. */
function rearmAlert({ data }: Extract<AlertCommand, { type: 'RearmAlert' }>, state: AlertState): Decision<AlertEvent> {
  const alert = ownAlert(state, data.userId);
  if (!alert) return noSuchAlert();
  if (alert.rule.repeat !== 'once')
    return refuse('INVALID_COMMAND', 'Only an alert that triggers once can be re-armed', ['repeat']);
  return accept([event('AlertRearmed', { alertId: data.alertId, userId: data.userId })]);
}

function deleteAlert(
  { data }: Extract<AlertCommand, { type: 'DeleteAlert' }>,
  state: AlertState,
): Decision<AlertEvent> {
  // Someone else's alert is as absent as a missing one: its existence is not revealed.
  if (state.status === 'none' || state.userId !== data.userId) return noSuchAlert();
  // Deleted already (a second click, a stale tab): done, as asked, with nothing new to record.
  if (state.status === 'deleted') return accept([]);
  return accept([event('AlertDeleted', { alertId: data.alertId, userId: data.userId })]);
}

function decide(command: AlertCommand, state: AlertState): Decision<AlertEvent> {
  return match(command)
    .with({ type: 'SetAlert' }, (c) => setAlert(c, state))
    .with({ type: 'EditAlert' }, (c) => editAlert(c, state))
    .with({ type: 'PauseAlert' }, { type: 'ResumeAlert' }, (c) => pauseOrResume(c, state))
    .with({ type: 'RearmAlert' }, (c) => rearmAlert(c, state))
    .with({ type: 'DeleteAlert' }, (c) => deleteAlert(c, state))
    .exhaustive();
}

/** The alert aggregate: one subject per alert (events/alert.ts). */
export const alertDecider: Decider<AlertState, AlertCommand, AlertEvent> = { decide, evolve, initialState };
