import { match } from 'ts-pattern';
import type { ChannelEvent, DeliveryEvent } from '../../../events/index.ts';
import type { TableNamer } from '../../../platform/postgres.ts';
import type { EventContext, Statement } from './eventStatements.ts';

/**
 * The SQL a channel's or a delivery's event makes to the `channels` read model, one event at a time (the batch's
 * set-based equal: batch/tableChanges.ts `changeChannel`). The URL and the secret go in as the log holds them: sealed.
 */
export function channelStatements(event: ChannelEvent | DeliveryEvent, ctx: EventContext, t: TableNamer): Statement[] {
  const status = (channelId: string, value: 'active' | 'paused' | 'deleted', pausedFor: string | null) => ({
    text: `UPDATE ${t('channels')} SET status = $2, paused_for = $3, updated_seq = $4 WHERE channel_id = $1 AND status <> 'deleted'`,
    values: [channelId, value, pausedFor, ctx.seq],
  });
  return (
    match(event)
      .with({ type: 'ChannelAdded' }, ({ data }) => [
        {
          text: `INSERT INTO ${t('channels')} (channel_id, user_id, url, format, secret, status, added_seq, added_at, updated_seq)
               VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $6) ON CONFLICT DO NOTHING`,
          values: [data.channelId, data.userId, data.url, data.format, data.secret, ctx.seq, ctx.occurredAt],
        },
      ])
      .with({ type: 'ChannelPaused' }, ({ data }) => [status(data.channelId, 'paused', data.reason)])
      .with({ type: 'ChannelResumed' }, ({ data }) => [status(data.channelId, 'active', null)])
      .with({ type: 'ChannelDeleted' }, ({ data }) => [status(data.channelId, 'deleted', null)])
      // A test and a claim change no row: the attempts that follow them do.
      .with({ type: 'ChannelTestRequested' }, { type: 'WebhookClaimed' }, () => [])
      .with({ type: 'WebhookAttempted' }, ({ data }) => [
        {
          text: `UPDATE ${t('channels')} SET last_reference = $2, last_outcome = $3, last_status = $4, last_detail = $5, last_attempt_at = $6
               WHERE channel_id = $1`,
          values: [data.channelId, data.reference, data.outcome, data.status ?? null, data.detail, ctx.occurredAt],
        },
      ])
      .exhaustive()
  );
}
