import type { EventOf } from '../../../events/index.ts';
import { html } from '../../../platform/html.ts';
import { accountHistory, erasedAfter } from '../accountHistory.ts';
import { AUTOMATED, page, safeUrl, type Email } from '../emails.ts';
import { recipientAt, revealRecipient, sendOnce, type TransactionalDeps } from '../transactionalEmails.ts';

/** The owner's notice that a channel was paused because its deliveries kept failing; it names no URL, only the page. */
export function channelPausedEmail({ username, channelsLink }: { username: string; channelsLink: string }): Email {
  const url = safeUrl(channelsLink);
  const subject = 'A webhook channel of yours was paused';
  const text = [
    `Hello ${username},`,
    '',
    'One of your webhook channels kept failing to take your alert digests, so it was paused: nothing more is sent to it until you resume it. Your emails go on as before.',
    '',
    `Check its URL on the channels page, send a test, then resume it: ${url}`,
    '',
  ].join('\n');
  const body = html`<p>Hello ${username},</p>
<p>One of your webhook channels kept failing to take your alert digests, so it was paused: nothing more is sent to it until you resume it. Your emails go on as before.</p>
<p>Check its URL on the <a href="${url}">channels page</a>, send a test, then resume it.</p>`;
  return { subject, text, html: page(subject, body), headers: { ...AUTOMATED } };
}

/** Tell the owner, once, that a channel was paused as failing (ChannelPaused with reason `failing`, at log sequence `seq`). */
export async function sendChannelPausedNotice(deps: TransactionalDeps, event: EventOf<'ChannelPaused'>, seq: number) {
  const { userId, channelId } = event.data;
  const history = await accountHistory(deps, userId);
  if (erasedAfter(history, seq)) return 'no-recipient' as const;
  const sealed = recipientAt(history, Number.MAX_SAFE_INTEGER);
  const account = sealed && (await revealRecipient(deps.personal, userId, sealed));
  if (!account) return 'no-recipient' as const;
  return sendOnce(deps, {
    userId,
    kind: 'channel-paused',
    reference: `channel-paused-${channelId}-${seq}`,
    messageRef: `${channelId}.${seq}`,
    to: { plain: account.email, sealed: sealed.email },
    content: () => channelPausedEmail({ username: account.username, channelsLink: `${deps.publicUrl}/channels` }),
  });
}
