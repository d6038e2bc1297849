import { match } from 'ts-pattern';
import { event, type ChannelEvent, type CommandPayload, type EventData } from '../../../events/index.ts';
import { accept, refuse, type Decider, type Decision } from '../decision.ts';

export type ChannelState =
  { status: 'none' } | { status: 'active' | 'paused' | 'deleted'; userId: string; pausedFor?: 'owner' | 'failing' };

const initialState: ChannelState = { status: 'none' };

function evolve(state: ChannelState, e: ChannelEvent): ChannelState {
  return match(e)
    .with({ type: 'ChannelAdded' }, ({ data }): ChannelState => ({ status: 'active', userId: data.userId }))
    .with({ type: 'ChannelTestRequested' }, () => state)
    .with({ type: 'ChannelPaused' }, ({ data }): ChannelState => ({
      status: 'paused',
      userId: data.userId,
      pausedFor: data.reason,
    }))
    .with({ type: 'ChannelResumed' }, ({ data }): ChannelState => ({ status: 'active', userId: data.userId }))
    .with({ type: 'ChannelDeleted' }, ({ data }): ChannelState => ({ status: 'deleted', userId: data.userId }))
    .exhaustive();
}

/** Most channels one person may have at a time. */
export const MAX_CHANNELS_PER_USER = 10;

/** What AddChannel's handler prepares: the URL and the signing secret sealed under the person's key. */
export type SealedChannel = Pick<EventData<'ChannelAdded'>, 'url' | 'secret'>;

export type ChannelCommand =
  | {
      type: 'AddChannel';
      data: CommandPayload<'AddChannel'> & SealedChannel;
      /** The person's channels that are not deleted, from the read models. */
      metadata: { channels: number };
    }
  | { type: 'TestChannel'; data: CommandPayload<'TestChannel'> }
  | { type: 'PauseChannel'; data: CommandPayload<'PauseChannel'> }
  | { type: 'ResumeChannel'; data: CommandPayload<'ResumeChannel'> }
  | { type: 'DeleteChannel'; data: CommandPayload<'DeleteChannel'> };

function addChannel(command: Extract<ChannelCommand, { type: 'AddChannel' }>, state: ChannelState) {
  const { data, metadata } = command;
  if (state.status !== 'none') return refuse('ALREADY_EXISTS', 'That channel already exists');
  if (metadata.channels >= MAX_CHANNELS_PER_USER)
    return refuse(
      'TOO_MANY_CHANNELS',
      `You have ${metadata.channels} channels, the most allowed. Delete one to add another.`,
      ['url'],
    );
  const { channelId, userId, url, format, secret } = data;
  return accept([event('ChannelAdded', { channelId, userId, url, format, secret })], { channelId });
}

type Owned = { channelId: string; userId: string };

/** Someone else's channel, a deleted one and a missing one are alike: none of them is there for this person. */
const notTheirs = (state: ChannelState, data: Owned): boolean =>
  state.status === 'none' || state.status === 'deleted' || state.userId !== data.userId;

const NOT_FOUND = refuse('NOT_FOUND', 'No such channel');

function decide(command: ChannelCommand, state: ChannelState): Decision<ChannelEvent> {
  if (command.type === 'AddChannel') return addChannel(command, state);
  const owned = { channelId: command.data.channelId, userId: command.data.userId };
  // A delete sent twice (a double click, a stale tab) is done as asked, with nothing new to record.
  if (command.type === 'DeleteChannel' && state.status === 'deleted' && state.userId === owned.userId)
    return accept([]);
  if (notTheirs(state, owned)) return NOT_FOUND;
  return match(command)
    .with({ type: 'TestChannel' }, ({ data }) =>
      accept([event('ChannelTestRequested', { ...owned, testId: data.testId })]),
    )
    .with({ type: 'PauseChannel' }, ({ data }) =>
      // Paused already, by whoever: it stays paused as it is (the owner's reason is not overwritten by the notifier's).
      state.status === 'paused' ? accept([]) : accept([event('ChannelPaused', { ...owned, reason: data.reason })]),
    )
    .with({ type: 'ResumeChannel' }, () =>
      state.status === 'active' ? accept([]) : accept([event('ChannelResumed', owned)]),
    )
    .with({ type: 'DeleteChannel' }, () => accept([event('ChannelDeleted', owned)]))
    .exhaustive();
}

/** The channel aggregate: one subject per channel (events/channel.ts). */
export const channelDecider: Decider<ChannelState, ChannelCommand, ChannelEvent> = { decide, evolve, initialState };
