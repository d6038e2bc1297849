import { match } from 'ts-pattern';
import { event, type CommandPayload, type DomainEvent } from '../../../events/index.ts';
import { accept, refuse, type Decision } from '../decision.ts';

export type AlertState = { status: 'none' } | { status: 'active'; userId: string } | { status: 'deleted'; userId: string };

export const initialAlertState: AlertState = { status: 'none' };

export function evolveAlert(state: AlertState, e: DomainEvent): AlertState {
  return match(e)
    .with({ type: 'AlertSet' }, ({ data }): AlertState => ({ status: 'active', userId: data.userId }))
    .with({ type: 'AlertDeleted' }, ({ data }): AlertState => ({ status: 'deleted', userId: data.userId }))
    .with(
      { type: 'RegistrationRequested' }, { type: 'VerificationReissued' }, { type: 'UserRegistered' }, { type: 'RegistrationExpired' },
      { type: 'UserLoggedIn' }, { type: 'UserLoggedOut' }, { type: 'PasswordResetRequested' }, { type: 'PasswordChanged' },
      { type: 'AlertEmailsPaused' }, { type: 'AlertEmailsResumed' }, { type: 'RatesFetched' }, { type: 'AlertTriggered' }, { type: 'EmailClaimed' }, { type: 'EmailSent' },
      () => state,
    )
    .exhaustive();
}

export function setAlert(command: CommandPayload<'SetAlert'>, state: AlertState): Decision {
  if (state.status !== 'none') return refuse('ALREADY_EXISTS', 'That alert already exists');
  if (command.base === command.quote) return refuse('INVALID_COMMAND', 'Choose two different currencies');
  return accept([event('AlertSet', command)], { alertId: command.alertId });
}

export function deleteAlert(command: CommandPayload<'DeleteAlert'>, state: AlertState): Decision {
  // Someone else's alert is as absent as a missing one: its existence is not revealed.
  if (state.status === 'none' || state.userId !== command.userId) return refuse('NOT_FOUND', 'No such alert');
  // Deleted already (a second click, a stale tab): done, as asked, with nothing new to record.
  if (state.status === 'deleted') return accept([]);
  return accept([event('AlertDeleted', { alertId: command.alertId, userId: command.userId })]);
}
