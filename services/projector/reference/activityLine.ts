import { alertRule, ruleSummary, type DomainEvent, type EventData, type EventOf } from '../../../events/index.ts';
import { formatRatio } from '../../../events/ratio.ts';
import { unhandled } from '../unhandled.ts';
import { refusedAccountAddress } from './refusedAddress.ts';

const pair = (base: string, quote: string) => `${base}/${quote}`;
const line = (userId: string, summary: string) => ({ userId, summary });
/** A channel as the history names it: the start of its id (ids are random, 8 characters tell them apart). */
export const shortId = (channelId: string) => channelId.slice(0, 9);
const formats = { json: 'JSON webhook', slack: 'Slack webhook', discord: 'Discord webhook' } as const;
const channelName = (format: keyof typeof formats, channelId: string) =>
  `${formats[format]} channel ${shortId(channelId)}`;
const outcomes = {
  delivered: 'delivered',
  retry: 'failed, will retry',
  rejected: 'refused, not retried',
  expired: 'failed for 24 hours, given up',
} as const;
function attemptLine(data: EventOf<'WebhookAttempted'>['data']): string {
  const what = data.reference.startsWith('t') ? 'Test message' : `Run ${data.reference} message`;
  return `${what} to channel ${shortId(data.channelId)}, attempt ${data.attempt}: ${outcomes[data.outcome]} (${data.detail})`;
}

const kindName = (kind: EventData<'EmailSent'>['kind']) => kind.replace('-', ' ');

/**
 * The line an event adds to its user's own history, if it adds one. Runs for every event of a rebuild, so
 * a switch (exhaustive all the same: a new event type fails the `never` check) instead of a ts-pattern match.
 *
 * The web app keeps a user's rendered alerts page until the user's newest activity row (or the newest run)
 * changes (web/shared/openSessions.ts): an event that changes what its user sees must add a line here, as
 * activityLine.int.spec.ts checks for every event type.
 */
export function activityLine(event: DomainEvent): { userId: string; summary: string } | undefined {
  switch (event.type) {
    case 'RegistrationRequested':
    case 'VerificationReissued':
    case 'RegistrationExpired':
    case 'RatesFetched':
    case 'EmailClaimed':
    case 'WebhookClaimed':
    case 'AccountErased': // the account and every row of it are gone: nobody is left to see a line
      return undefined;
    case 'UserRegistered':
      return line(event.data.userId, 'Registered your account');
    case 'UserLoggedIn':
      return line(event.data.userId, 'Logged in');
    case 'UserLoggedOut':
      return line(event.data.userId, 'Logged out');
    case 'PasswordResetRequested':
      return line(event.data.userId, 'Asked for a password reset link');
    case 'PasswordChanged':
      // A reset by link ends every session; a change on the account page keeps the session it was made from.
      return line(
        event.data.userId,
        event.data.keptSessionId
          ? 'Changed the password; every other session was ended'
          : 'Changed the password; every session was ended',
      );
    case 'SessionsEnded':
      return line(event.data.userId, 'Logged out everywhere else');
    // The addresses stay out of the history: it says what happened, the account page says which address is current.
    case 'EmailChangeRequested':
      return line(event.data.userId, 'Asked to change the email address; a confirmation link went to the new one');
    case 'EmailChanged':
      return line(event.data.userId, 'Changed the email address');
    case 'AlertEmailsPaused':
      return line(event.data.userId, 'Paused alert emails');
    case 'AlertEmailsResumed':
      return line(event.data.userId, 'Turned alert emails back on');
    case 'AlertSet':
      return line(
        event.data.userId,
        `Set an alert on ${pair(event.data.base, event.data.quote)} ${ruleSummary(alertRule(event.data))}`,
      );
    case 'AlertEdited':
      return line(event.data.userId, `Changed an alert to ${ruleSummary(alertRule(event.data))}`);
    case 'AlertPaused':
      return line(event.data.userId, 'Paused an alert');
    case 'AlertResumed':
      return line(event.data.userId, 'Resumed an alert');
    case 'AlertRearmed':
      return line(event.data.userId, 'Re-armed an alert');
    case 'AlertDeleted':
      return line(event.data.userId, 'Deleted an alert');
    case 'AlertTriggered': {
      const { data } = event;
      // Ratios as the alerts page shows them: 6 significant digits, more only where needed to stay on their side.
      const shown = (ratio: string) => formatRatio(ratio, 6, data.threshold);
      // Triggers recorded before kinds name their threshold as they always did.
      const what = data.threshold !== undefined ? `at ${data.threshold}` : `on a ${data.percent} % change`;
      const moved = data.threshold !== undefined ? 'crossed' : 'moved';
      const way = data.direction === 'up' ? `${moved} upward ↑` : `${moved} downward ↓`;
      return line(
        data.userId,
        `Alert ${pair(data.base, data.quote)} ${what} triggered: ${shown(data.previousRatio)} → ${shown(data.currentRatio)}, ${way}`,
      );
    }
    case 'EmailSent':
      // The erasure confirmation goes once the account is gone: it is nobody's line.
      if (event.data.kind === 'account-erased') return undefined;
      return line(event.data.userId, `Email sent: ${kindName(event.data.kind)}`);
    case 'EmailDeferred':
      if (event.data.kind === 'account-erased') return undefined;
      return line(
        event.data.userId,
        `Email not sent yet: ${kindName(event.data.kind)}, attempt ${event.data.attempt}: the mail server could not take it (${event.data.detail}); tried again later`,
      );
    case 'EmailUndeliverable': {
      const { data } = event;
      if (data.kind === 'account-erased') return undefined;
      const why = data.permanent
        ? `the mail server refused it for good (${data.detail})`
        : `it kept failing for 24 hours (${data.detail}), given up`;
      const paused = refusedAccountAddress(data) ? ': alert emails to your address are paused' : '';
      return line(data.userId, `Email not delivered: ${kindName(data.kind)}, ${why}${paused}`);
    }
    // A channel is named by its format and the start of its id: its URL is personal and stays out of the history.
    case 'ChannelAdded':
      return line(event.data.userId, `Added a ${channelName(event.data.format, event.data.channelId)}`);
    case 'ChannelTestRequested':
      return line(event.data.userId, `Asked for a test message on channel ${shortId(event.data.channelId)}`);
    case 'ChannelPaused':
      return line(
        event.data.userId,
        event.data.reason === 'failing'
          ? `Channel ${shortId(event.data.channelId)} was paused: its deliveries kept failing`
          : `Paused channel ${shortId(event.data.channelId)}`,
      );
    case 'ChannelResumed':
      return line(event.data.userId, `Resumed channel ${shortId(event.data.channelId)}`);
    case 'ChannelDeleted':
      return line(event.data.userId, `Deleted channel ${shortId(event.data.channelId)}`);
    case 'WebhookAttempted':
      return line(event.data.userId, attemptLine(event.data));
    default:
      return unhandled(event);
  }
}
