import { z } from 'zod';
import { AggregateId, IsoTimestamp, Personal, SealedText } from './ids.ts';

/** How a channel's messages are written: a signed JSON payload (Standard Webhooks), or Slack's or Discord's incoming-webhook body. */
export const ChannelFormat = z.enum(['json', 'slack', 'discord']);
export type ChannelFormat = z.infer<typeof ChannelFormat>;

/** Longest webhook URL taken: Slack's and Discord's are about 120 characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2_000;

/**
 * A webhook URL as typed: absolute http(s), no credentials, no fragment. Whether http or a private address is allowed is
 * the deployment's choice (WEBHOOK_ALLOW_HTTP, WEBHOOK_ALLOW_PRIVATE), checked where the configuration is known.
 */
export const WebhookUrl = z
  .string()
  .trim()
  .min(1, 'Enter the webhook URL')
  .max(MAX_WEBHOOK_URL_LENGTH, `Use at most ${MAX_WEBHOOK_URL_LENGTH} characters`)
  .superRefine((value, ctx) => {
    // One message, the first that applies: each later rule reads the URL the earlier ones proved parseable.
    if (value === '' || value.length > MAX_WEBHOOK_URL_LENGTH) return;
    const url = URL.canParse(value) ? new URL(value) : undefined;
    const problem = !url
      ? 'Enter a whole URL, starting with https://'
      : !['https:', 'http:'].includes(url.protocol)
        ? 'Use an https:// URL'
        : url.username !== '' || url.password !== ''
          ? 'Leave the user name and password out of the URL'
          : undefined;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A channel's signing secret (Standard Webhooks: `whsec_` and 24 to 64 random bytes in base64). */
export const WebhookSecret = z.string().regex(/^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/, 'must be a whsec_ secret');

/** Why a channel stopped sending: its owner paused it, or its deliveries kept failing. */
export const PauseReason = z.enum(['owner', 'failing']);

// The channel aggregate: one subject per channel (a webhook of one person).
export const channelEvents = {
  /**
   * A person added a webhook channel. The URL (its path is often the endpoint's only credential) and the signing
   * secret are sealed under the person's key (personalFields in catalog.ts); the secret signs `json` deliveries only.
   */
  ChannelAdded: z.object({
    channelId: AggregateId,
    userId: AggregateId,
    url: Personal(WebhookUrl),
    format: ChannelFormat,
    secret: SealedText,
  }),
  /** The owner asked for a test message on the channel; the notifier sends it like a run's. */
  ChannelTestRequested: z.object({ channelId: AggregateId, userId: AggregateId, testId: AggregateId }),
  /** The channel sends nothing until resumed: its owner paused it, or the notifier did after deliveries kept failing. */
  ChannelPaused: z.object({ channelId: AggregateId, userId: AggregateId, reason: PauseReason }),
  /** The owner turned the channel back on. */
  ChannelResumed: z.object({ channelId: AggregateId, userId: AggregateId }),
  /** The owner deleted the channel; nothing is sent to it again. */
  ChannelDeleted: z.object({ channelId: AggregateId, userId: AggregateId }),
} as const;

/** What a delivery is for: a run's digest (`<runSeq>`) or a test message (`t<testId>`). */
export const DeliveryReference = z.string().regex(/^(\d+|t[A-Za-z0-9_-]{1,64})$/);

/**
 * How an attempt ended: `delivered` (2xx), `retry` (timeout, connection error, 5xx, 429: tried again at `retryAt`),
 * `rejected` (another 4xx, or the address refused: not retried), `expired` (still failing 24 h after the first attempt).
 */
export const AttemptOutcome = z.enum(['delivered', 'retry', 'rejected', 'expired']);

// Deliveries to channels: one subject per (reference, channel), as a digest has per (run, user).
export const deliveryEvents = {
  /** A notifier instance took on one delivery until `until` (the same claim as an email's: services/notifier/claims.ts). */
  WebhookClaimed: z.object({
    channelId: AggregateId,
    userId: AggregateId,
    reference: DeliveryReference,
    claimedBy: z.string().min(1).max(64),
    until: IsoTimestamp,
  }),
  /**
   * One attempt to deliver, and how it ended. `webhookId` is the same for every attempt of a delivery (the receiver's
   * key to drop duplicates). `detail` is ours (a status line, "timed out"), never text from the response.
   */
  WebhookAttempted: z.object({
    channelId: AggregateId,
    userId: AggregateId,
    reference: DeliveryReference,
    webhookId: z.string().min(1).max(128),
    attempt: z.number().int().positive(),
    outcome: AttemptOutcome,
    status: z.number().int().min(100).max(599).optional(),
    detail: z.string().max(200),
    retryAt: IsoTimestamp.optional(),
    /** When the delivery's first attempt was made: a delivery still failing 24 h after it is given up. */
    firstAttemptAt: IsoTimestamp,
  }),
} as const;
