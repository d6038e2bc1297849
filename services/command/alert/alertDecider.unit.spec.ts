import { describe, it } from 'vitest';
import { event, type AlertRuleFields } from '../../../events/index.ts';
import { deciderSpec } from '../../../test/deciderSpec.ts';
import { alertDecider, MAX_ALERTS_PER_USER, type AlertCommand, type AlertPolicyFacts } from './alertDecider.ts';

const { given } = deciderSpec(alertDecider);
const now = new Date('2026-11-02T12:00:00Z');
const alert = { alertId: 'a1', userId: 'owner', base: 'EUR', quote: 'USD', threshold: '1.0825' };
const latestRun: AlertPolicyFacts = { activeAlerts: 0, latestRunCurrencies: ['EUR', 'GBP', 'JPY', 'USD'] };
const setAlert = (
  data: Omit<typeof alert, 'threshold'> & AlertRuleFields = alert,
  facts: Partial<AlertPolicyFacts> = {},
): AlertCommand => ({
  type: 'SetAlert',
  data,
  metadata: { ...latestRun, ...facts, now },
});
const owned = (userId = 'owner') => ({ alertId: 'a1', userId });
const editAlert = (rule: AlertRuleFields, userId = 'owner'): AlertCommand => ({
  type: 'EditAlert',
  data: { ...owned(userId), ...rule },
  metadata: { now },
});
const pauseAlert = (userId = 'owner'): AlertCommand => ({ type: 'PauseAlert', data: owned(userId) });
const resumeAlert = (userId = 'owner'): AlertCommand => ({ type: 'ResumeAlert', data: owned(userId) });
const rearmAlert = (userId = 'owner'): AlertCommand => ({ type: 'RearmAlert', data: owned(userId) });
const deleteAlert = (userId: string): AlertCommand => ({ type: 'DeleteAlert', data: owned(userId) });
/** AlertSet as recorded: every field of the rule written out. */
const set = event('AlertSet', { ...alert, kind: 'threshold', direction: 'either', repeat: 'every' });
/** AlertSet as recorded before kinds existed: a threshold alone. */
const setBeforeKinds = event('AlertSet', alert);
const onceUp = event('AlertSet', { ...alert, kind: 'threshold', direction: 'up', repeat: 'once' });
const change = { kind: 'change', percent: '1.5', runs: 3, direction: 'down', repeat: 'every' } as const;
const deleted = event('AlertDeleted', owned());
const paused = event('AlertPaused', owned());
const resumed = event('AlertResumed', owned());

describe('alert decisions', () => {
  it('sets a new alert once, its rule written out in full; the same id again is refused as existing', () => {
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

describe('alert kinds (docs/design.md §4b)', () => {
  it.each([
    ['up only, once', { direction: 'up', repeat: 'once' }],
    ['down only, every time, until a date', { direction: 'down', repeat: 'every', expires: '2026-12-31' }],
    ['either way, expiring today', { direction: 'either', expires: '2026-11-02' }],
  ] as const)('sets a threshold alert %s', (_, rule) => {
    given([])
      .when(setAlert({ ...alert, ...rule }))
      .then([{ type: 'AlertSet', data: { ...alert, kind: 'threshold', repeat: 'every', ...rule } }]);
  });

  it('sets a change alert: percent and runs instead of a threshold (runs 1 when not given)', () => {
    const { threshold: _, ...pair } = alert;
    given([])
      .when(setAlert({ ...pair, ...change }))
      .then([{ type: 'AlertSet', data: { ...pair, ...change } }]);
    given([])
      .when(setAlert({ ...pair, kind: 'change', percent: '0.5' }))
      .then([
        {
          type: 'AlertSet',
          data: { ...pair, kind: 'change', percent: '0.5', runs: 1, direction: 'either', repeat: 'every' },
        },
      ]);
  });

  it('refuses an expiry date that has passed, beside its field', () => {
    given([])
      .when(setAlert({ ...alert, expires: '2026-11-01' }))
      .thenRefuses('INVALID_COMMAND', ['expires']);
    given([set])
      .when(editAlert({ threshold: '1.1', expires: '2026-11-01' }))
      .thenRefuses('INVALID_COMMAND', ['expires']);
  });
});

describe('editing, pausing, resuming and re-arming an alert', () => {
  it('edits the rule of an alert (also one recorded before kinds); the same rule again records nothing', () => {
    given([set])
      .when(editAlert({ threshold: '1.1', direction: 'down', repeat: 'once' }))
      .then([
        {
          type: 'AlertEdited',
          data: { ...owned(), kind: 'threshold', threshold: '1.1', direction: 'down', repeat: 'once' },
        },
      ]);
    given([setBeforeKinds])
      .when(editAlert({ threshold: '1.0825' }))
      .then([]);
    given([set])
      .when(editAlert({ kind: 'threshold', threshold: '1.0825', direction: 'either' }))
      .then([]);
    given([set])
      .when(editAlert(change))
      .then([{ type: 'AlertEdited', data: { ...owned(), ...change } }]);
  });

  it('an edit folds into the state: editing back to the first rule is a change again', () => {
    const edited = event('AlertEdited', { ...owned(), ...change });
    given([set, edited]).when(editAlert(change)).then([]);
    given([set, edited])
      .when(editAlert({ threshold: '1.0825' }))
      .then([{ type: 'AlertEdited', data: { kind: 'threshold', threshold: '1.0825' } }]);
  });

  it('pauses and resumes; pausing a paused alert or resuming an active one records nothing', () => {
    given([set]).when(pauseAlert()).then([paused]);
    given([set, paused]).when(pauseAlert()).then([]);
    given([set, paused]).when(resumeAlert()).then([resumed]);
    given([set]).when(resumeAlert()).then([]);
    given([set, paused, resumed]).when(pauseAlert()).then([paused]);
  });

  it('an edit keeps a paused alert paused', () => {
    const edited = event('AlertEdited', { ...owned(), ...change });
    given([set, paused, edited]).when(resumeAlert()).then([resumed]);
  });

  it('re-arms a once alert (every time it is asked); an every-time alert has nothing to re-arm', () => {
    given([onceUp])
      .when(rearmAlert())
      .then([event('AlertRearmed', owned())]);
    given([set]).when(rearmAlert()).thenRefuses('INVALID_COMMAND', ['repeat']);
  });

  it('to anyone but its owner, or once it is deleted, there is no alert to edit, pause, resume or re-arm', () => {
    for (const command of [
      editAlert({ threshold: '2' }, 'intruder'),
      pauseAlert('intruder'),
      resumeAlert('intruder'),
      rearmAlert('intruder'),
    ])
      given([onceUp]).when(command).thenRefuses('NOT_FOUND');
    for (const command of [editAlert({ threshold: '2' }), pauseAlert(), resumeAlert(), rearmAlert()]) {
      given([onceUp, deleted]).when(command).thenRefuses('NOT_FOUND');
      given([]).when(command).thenRefuses('NOT_FOUND');
    }
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

  it(`sets at most ${MAX_ALERTS_PER_USER} alerts per user, of whatever kind, paused or not`, () => {
    given([])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER - 1 }))
      .then([set]);
    given([])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER }))
      .thenRefuses('TOO_MANY_ALERTS');
    given([])
      .when(setAlert({ ...alert, direction: 'up', repeat: 'once' }, { activeAlerts: MAX_ALERTS_PER_USER }))
      .thenRefuses('TOO_MANY_ALERTS');
  });

  it('at the cap, the same alert set again (a repeated submit) is the one that exists, not one too many', () =>
    given([set])
      .when(setAlert(alert, { activeAlerts: MAX_ALERTS_PER_USER }))
      .thenRefuses('ALREADY_EXISTS'));
});
