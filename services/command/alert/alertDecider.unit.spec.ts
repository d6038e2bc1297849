import { describe, it } from 'vitest';
import { event } from '../../../events/index.ts';
import { deciderSpec } from '../../../test/deciderSpec.ts';
import { alertDecider, type AlertCommand } from './alertDecider.ts';

const { given } = deciderSpec(alertDecider);
const alert = { alertId: 'a1', userId: 'owner', base: 'EUR', quote: 'USD', threshold: '1.0825' };
const setAlert = (data = alert): AlertCommand => ({ type: 'SetAlert', data });
const deleteAlert = (userId: string): AlertCommand => ({ type: 'DeleteAlert', data: { alertId: 'a1', userId } });
const set = event('AlertSet', alert);
const deleted = event('AlertDeleted', { alertId: 'a1', userId: 'owner' });

describe('alert decisions', () => {
  it('sets a new alert once; the same id again is refused as existing', () => {
    given([]).when(setAlert()).then([set]);
    given([set]).when(setAlert()).thenRefuses('ALREADY_EXISTS');
    given([]).when(setAlert({ ...alert, quote: 'EUR' })).thenRefuses('INVALID_COMMAND');
  });

  it("deletes its owner's alert; a second delete is done already and records nothing", () => {
    given([set]).when(deleteAlert('owner')).then([deleted]);
    given([set, deleted]).when(deleteAlert('owner')).then([]);
  });

  it('to anyone but its owner an alert, deleted or not, does not exist', () => {
    given([set]).when(deleteAlert('intruder')).thenRefuses('NOT_FOUND');
    given([set, deleted]).when(deleteAlert('intruder')).thenRefuses('NOT_FOUND');
    given([]).when(deleteAlert('owner')).thenRefuses('NOT_FOUND');
  });
});
