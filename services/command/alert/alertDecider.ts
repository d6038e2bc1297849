import { match } from 'ts-pattern';
import { event, type AlertEvent, type CommandPayload } from '../../../events/index.ts';
import { accept, refuse, type Decider, type Decision } from '../decision.ts';

export type AlertState =
  { status: 'none' } | { status: 'active'; userId: string } | { status: 'deleted'; userId: string };

const initialState: AlertState = { status: 'none' };

function evolve(state: AlertState, e: AlertEvent): AlertState {
  return match(e)
    .with({ type: 'AlertSet' }, ({ data }): AlertState => ({ status: 'active', userId: data.userId }))
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

export type AlertCommand =
  | { type: 'SetAlert'; data: CommandPayload<'SetAlert'>; metadata: AlertPolicyFacts }
  | { type: 'DeleteAlert'; data: CommandPayload<'DeleteAlert'> };

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
  if (metadata.activeAlerts >= MAX_ALERTS_PER_USER) {
    return refuse(
      'TOO_MANY_ALERTS',
      `You have ${metadata.activeAlerts} alerts, the most allowed. Delete one to set another.`,
    );
  }
  return accept([event('AlertSet', data)], { alertId: data.alertId });
}

function deleteAlert(
  { data }: Extract<AlertCommand, { type: 'DeleteAlert' }>,
  state: AlertState,
): Decision<AlertEvent> {
  // Someone else's alert is as absent as a missing one: its existence is not revealed.
  if (state.status === 'none' || state.userId !== data.userId) return refuse('NOT_FOUND', 'No such alert');
  // Deleted already (a second click, a stale tab): done, as asked, with nothing new to record.
  if (state.status === 'deleted') return accept([]);
  return accept([event('AlertDeleted', { alertId: data.alertId, userId: data.userId })]);
}

function decide(command: AlertCommand, state: AlertState): Decision<AlertEvent> {
  return match(command)
    .with({ type: 'SetAlert' }, (c) => setAlert(c, state))
    .with({ type: 'DeleteAlert' }, (c) => deleteAlert(c, state))
    .exhaustive();
}

/** The alert aggregate: one subject per alert (events/alert.ts). */
export const alertDecider: Decider<AlertState, AlertCommand, AlertEvent> = { decide, evolve, initialState };
