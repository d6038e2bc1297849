import { match } from 'ts-pattern';
import { event, type AlertEvent, type CommandPayload } from '../../../events/index.ts';
import { accept, refuse, type Decider, type Decision } from '../decision.ts';

export type AlertState = { status: 'none' } | { status: 'active'; userId: string } | { status: 'deleted'; userId: string };

const initialState: AlertState = { status: 'none' };

function evolve(state: AlertState, e: AlertEvent): AlertState {
  return match(e)
    .with({ type: 'AlertSet' }, ({ data }): AlertState => ({ status: 'active', userId: data.userId }))
    .with({ type: 'AlertDeleted' }, ({ data }): AlertState => ({ status: 'deleted', userId: data.userId }))
    .exhaustive();
}

export type AlertCommand = { type: 'SetAlert'; data: CommandPayload<'SetAlert'> } | { type: 'DeleteAlert'; data: CommandPayload<'DeleteAlert'> };

function setAlert({ data }: Extract<AlertCommand, { type: 'SetAlert' }>, state: AlertState): Decision<AlertEvent> {
  if (state.status !== 'none') return refuse('ALREADY_EXISTS', 'That alert already exists');
  if (data.base === data.quote) return refuse('INVALID_COMMAND', 'Choose two different currencies');
  return accept([event('AlertSet', data)], { alertId: data.alertId });
}

function deleteAlert({ data }: Extract<AlertCommand, { type: 'DeleteAlert' }>, state: AlertState): Decision<AlertEvent> {
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
