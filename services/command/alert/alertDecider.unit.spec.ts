import { describe, it } from 'vitest';
import { event } from '../../../events/index.ts';
import { deciderSpec } from '../../../test/deciderSpec.ts';
import { alertDecider, MAX_ALERTS_PER_USER, type AlertCommand, type AlertPolicyFacts } from './alertDecider.ts';

const { given } = deciderSpec(alertDecider);
const alert = { alertId: 'a1', userId: 'owner', base: 'EUR', quote: 'USD', threshold: '1.0825' };
const latestRun: AlertPolicyFacts = { activeAlerts: 0, latestRunCurrencies: ['EUR', 'GBP', 'JPY', 'USD'] };
const setAlert = (data = alert, facts: Partial<AlertPolicyFacts> = {}): AlertCommand => ({
  type: 'SetAlert',
  data,
  metadata: { ...latestRun, ...facts },
});
const deleteAlert = (userId: string): AlertCommand => ({ type: 'DeleteAlert', data: { alertId: 'a1', userId } });
const set = event('AlertSet', alert);
const deleted = event('AlertDeleted', { alertId: 'a1', userId: 'owner' });

describe('alert decisions', () => {
  it('sets a new alert once; the same id again is refused as existing', () => {
    given([]).when(setAlert()).then([set]);
    given([set]).when(setAlert()).thenRefuses('ALREADY_EXISTS');
    given([])
      .when(setAlert({ ...alert, quote: 'EUR' }))
      .thenRefuses('INVALID_COMMAND', ['quote']);
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

describe('the alert policy: the latest run and the cap', () => {
  it('sets an alert only on currencies of the latest run, naming each one that is not', () => {
    given([])
      .when(setAlert(alert, { latestRunCurrencies: undefined }))
      .thenRefuses('UNKNOWN_CURRENCY', ['base']);
    given([])
      .when(setAlert({ ...alert, base: 'CHF' }))
      .thenRefuses('UNKNOWN_CURRENCY', ['base']);
    given([])
      .when(setAlert({ ...alert, quote: 'CHF' }))
      .thenRefuses('UNKNOWN_CURRENCY', ['quote']);
    given([])
      .when(setAlert({ ...alert, base: 'CHF', quote: 'XYZ' }))
      .thenRefuses('UNKNOWN_CURRENCY', ['base', 'quote']);
    given([])
      .when(setAlert({ ...alert, base: 'GBP', quote: 'JPY' }))
      .then([{ type: 'AlertSet', data: { base: 'GBP', quote: 'JPY' } }]);
  });

  it(`sets at most ${MAX_ALERTS_PER_USER} alerts per user`, () => {
    given([])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER - 1 }))
      .then([set]);
    given([])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER }))
      .thenRefuses('TOO_MANY_ALERTS');
  });

  it('at the cap, the same alert set again (a repeated submit) is the one that exists, not one too many', () =>
    given([set])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER }))
      .thenRefuses('ALREADY_EXISTS'));
});
