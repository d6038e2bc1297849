import { describe, expect, it } from 'vitest';
import { event, type DomainEvent } from '../../../events/index.ts';
import { deleteAlert, evolveAlert, initialAlertState, setAlert } from './alertDecider.ts';

const alert = { alertId: 'a1', userId: 'owner', base: 'EUR', quote: 'USD', threshold: '1.0825' };
const stateAfter = (history: DomainEvent[]) => history.reduce(evolveAlert, initialAlertState);
const set = event('AlertSet', alert);
const deleted = event('AlertDeleted', { alertId: 'a1', userId: 'owner' });

describe('alert decisions', () => {
  it('sets a new alert once; the same id again is refused as existing', () => {
    expect(setAlert(alert, stateAfter([]))).toMatchObject({ ok: true, events: [set] });
    expect(setAlert(alert, stateAfter([set]))).toMatchObject({ ok: false, error: 'ALREADY_EXISTS' });
    expect(setAlert({ ...alert, quote: 'EUR' }, stateAfter([]))).toMatchObject({ ok: false, error: 'INVALID_COMMAND' });
  });

  it('deletes its owner\'s alert; a second delete is done already and records nothing', () => {
    expect(deleteAlert({ alertId: 'a1', userId: 'owner' }, stateAfter([set]))).toMatchObject({ ok: true, events: [deleted] });
    expect(deleteAlert({ alertId: 'a1', userId: 'owner' }, stateAfter([set, deleted]))).toMatchObject({ ok: true, events: [] });
  });

  it('to anyone but its owner an alert, deleted or not, does not exist', () => {
    expect(deleteAlert({ alertId: 'a1', userId: 'intruder' }, stateAfter([set]))).toMatchObject({ ok: false, error: 'NOT_FOUND' });
    expect(deleteAlert({ alertId: 'a1', userId: 'intruder' }, stateAfter([set, deleted]))).toMatchObject({ ok: false, error: 'NOT_FOUND' });
    expect(deleteAlert({ alertId: 'a1', userId: 'owner' }, stateAfter([]))).toMatchObject({ ok: false, error: 'NOT_FOUND' });
  });
});
