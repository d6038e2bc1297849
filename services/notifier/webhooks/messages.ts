import { Webhook } from 'standardwebhooks';
import type { ChannelFormat, EventData } from '../../../events/index.ts';

type Trigger = Pick<
  EventData<'AlertTriggered'>,
  'base' | 'quote' | 'threshold' | 'previousRatio' | 'currentRatio' | 'direction'
>;

/** What a channel is told: a run's digest (the same triggers as the email), or a test its owner asked for. */
export type DeliveryContent =
  | { kind: 'digest'; runSeq: number; asOf: string; alertsUrl: string; triggers: readonly Trigger[] }
  | { kind: 'test'; alertsUrl: string };

/** The version of the `json` payload's shape (docs/design.md §10): a receiver checks it before reading `data`. */
export const JSON_PAYLOAD_VERSION = 1;

const line = (t: Trigger) =>
  `${t.base}/${t.quote} crossed ${t.threshold} ${t.direction === 'up' ? 'upward ↑' : 'downward ↓'}: ${t.previousRatio} → ${t.currentRatio}`;

function summary(content: DeliveryContent): { title: string; lines: string[] } {
  if (content.kind === 'test')
    return { title: 'Currency Ratio Alerter: test message', lines: ['This channel receives your alert digests.'] };
  const n = content.triggers.length;
  return {
    title: `Currency Ratio Alerter: ${n} alert${n === 1 ? '' : 's'} crossed (rates of ${content.asOf})`,
    lines: content.triggers.map(line),
  };
}

/** Slack's mrkdwn and Discord's markdown read <, > and & as markup: our text has none, but a pair or URL never becomes some. */
const plain = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** The `json` payload (versioned, Standard Webhooks' recommended `type`/`timestamp`/`data` envelope). */
export function jsonPayload(content: DeliveryContent, at: Date) {
  if (content.kind === 'test')
    return {
      type: 'channel.test',
      version: JSON_PAYLOAD_VERSION,
      timestamp: at.toISOString(),
      data: { alertsUrl: content.alertsUrl },
    };
  return {
    type: 'alerts.digest',
    version: JSON_PAYLOAD_VERSION,
    timestamp: at.toISOString(),
    data: {
      runSeq: content.runSeq,
      asOf: content.asOf,
      alertsUrl: content.alertsUrl,
      triggers: content.triggers.map((t) => ({
        pair: `${t.base}/${t.quote}`,
        base: t.base,
        quote: t.quote,
        threshold: t.threshold,
        previousRatio: t.previousRatio,
        currentRatio: t.currentRatio,
        direction: t.direction,
      })),
    },
  };
}

/** The body a channel's format asks for: Slack's and Discord's documented incoming-webhook bodies, or our JSON. */
export function messageBody(format: ChannelFormat, content: DeliveryContent, at: Date): string {
  const { title, lines } = summary(content);
  if (format === 'json') return JSON.stringify(jsonPayload(content, at));
  if (format === 'slack')
    // https://api.slack.com/messaging/webhooks: `text` (the notification's fallback) and layout `blocks`.
    return JSON.stringify({
      text: plain(title),
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `*${plain(title)}*\n${lines.map(plain).join('\n')}` } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: `<${content.alertsUrl}|Your alerts>` }] },
      ],
    });
  // https://discord.com/developers/docs/resources/webhook#execute-webhook: `content` (at most 2000 characters), and
  // no mentions parsed, so no text of ours can ping anyone.
  const text = `**${title}**\n${lines.join('\n')}\n${content.alertsUrl}`;
  return JSON.stringify({
    content: text.length > 2_000 ? `${text.slice(0, 1_990)}\n…` : text,
    allowed_mentions: { parse: [] },
  });
}

/**
 * The Standard Webhooks headers of a `json` delivery, signed with the channel's secret by the standard's own library:
 * `webhook-id` (the same for every attempt of one delivery, for the receiver to drop repeats), `webhook-timestamp`
 * (seconds; each attempt's own) and `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`).
 */
export function signedHeaders(secret: string, webhookId: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1_000)),
    'webhook-signature': new Webhook(secret).sign(webhookId, at, body),
  };
}
