import { describe, it } from 'vitest';
import { event } from '../../../events/index.ts';
import { deciderSpec } from '../../../test/deciderSpec.ts';
import { channelDecider, MAX_CHANNELS_PER_USER, type ChannelCommand } from './channelDecider.ts';

const { given } = deciderSpec(channelDecider);
const owned = { channelId: 'c1', userId: 'owner' };
const sealedUrl = 'sealed:v1:1:dXJs';
const sealedSecret = 'sealed:v1:1:c2VjcmV0';
const add = (channels = 0): ChannelCommand => ({
  type: 'AddChannel',
  data: { ...owned, url: sealedUrl, format: 'json', secret: sealedSecret },
  metadata: { channels },
});
const added = event('ChannelAdded', { ...owned, url: sealedUrl, format: 'json', secret: sealedSecret });
const pausedByOwner = event('ChannelPaused', { ...owned, reason: 'owner' });
const pausedFailing = event('ChannelPaused', { ...owned, reason: 'failing' });
const resumed = event('ChannelResumed', owned);
const deleted = event('ChannelDeleted', owned);
const as = (userId: string) => ({ channelId: 'c1', userId });
const pause = (userId = 'owner', reason: 'owner' | 'failing' = 'owner'): ChannelCommand => ({
  type: 'PauseChannel',
  data: { ...as(userId), reason },
});
const resume = (userId = 'owner'): ChannelCommand => ({ type: 'ResumeChannel', data: as(userId) });
const remove = (userId = 'owner'): ChannelCommand => ({ type: 'DeleteChannel', data: as(userId) });
const test = (userId = 'owner'): ChannelCommand => ({ type: 'TestChannel', data: { ...as(userId), testId: 't1' } });

describe('channel decisions', () => {
  it('adds a channel once, with its sealed URL and secret; the same id again is refused as existing', () => {
    given([])
      .when(add())
      .then([{ type: 'ChannelAdded', data: { url: sealedUrl, secret: sealedSecret, format: 'json' } }]);
    given([added]).when(add()).thenRefuses('ALREADY_EXISTS');
  });

  it(`adds at most ${MAX_CHANNELS_PER_USER} channels per person, the refusal beside the URL`, () => {
    given([])
      .when(add(MAX_CHANNELS_PER_USER - 1))
      .then([added]);
    given([]).when(add(MAX_CHANNELS_PER_USER)).thenRefuses('TOO_MANY_CHANNELS', ['url']);
  });

  it('pauses and resumes; pausing a paused channel or resuming an active one records nothing', () => {
    given([added]).when(pause()).then([pausedByOwner]);
    given([added, pausedByOwner]).when(pause()).then([]);
    given([added, pausedByOwner]).when(resume()).then([resumed]);
    given([added]).when(resume()).then([]);
  });

  it('a channel whose deliveries keep failing is paused as failing, and the owner resumes it', () => {
    given([added]).when(pause('owner', 'failing')).then([pausedFailing]);
    given([added, pausedByOwner]).when(pause('owner', 'failing')).then([]);
    given([added, pausedFailing]).when(resume()).then([resumed]);
  });

  it('sends a test message to an active or paused channel', () => {
    given([added])
      .when(test())
      .then([{ type: 'ChannelTestRequested', data: { testId: 't1' } }]);
    given([added, pausedByOwner])
      .when(test())
      .then([{ type: 'ChannelTestRequested' }]);
  });

  it('deletes once; a second delete is done already and records nothing; a deleted channel is gone', () => {
    given([added]).when(remove()).then([deleted]);
    given([added, deleted]).when(remove()).then([]);
    given([added, deleted]).when(test()).thenRefuses('NOT_FOUND');
    given([added, deleted]).when(resume()).thenRefuses('NOT_FOUND');
  });

  it('to anyone but its owner a channel does not exist, whatever they ask', () => {
    for (const command of [pause('intruder'), resume('intruder'), remove('intruder'), test('intruder')]) {
      given([added]).when(command).thenRefuses('NOT_FOUND');
      given([added, deleted]).when(command).thenRefuses('NOT_FOUND');
      given([]).when(command).thenRefuses('NOT_FOUND');
    }
  });
});
