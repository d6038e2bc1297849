import { z } from 'zod';
import { AggregateId, Email, Username } from './ids.ts';
import { alertRuleFields, withFittingRule } from './alert.ts';
import { CurrencyCode } from './decimal.ts';
import { ChannelFormat, PauseReason, WebhookUrl } from './channel.ts';

// The rules of the fields people type or follow, each once with its message: the web's forms and pages use these too.
const MAX_PASSWORD_LENGTH = 256;
/** A new password (registration, reset, change on the account page). */
export const Password = z
  .string()
  .min(10, 'Use at least 10 characters')
  .max(MAX_PASSWORD_LENGTH, `Use at most ${MAX_PASSWORD_LENGTH} characters`);
/** A password as typed to log in: any, within the bounds of a new one. */
export const LoginPassword = z
  .string()
  .min(1, 'Enter your password')
  .max(MAX_PASSWORD_LENGTH, 'That password is too long');
/** The token of an emailed link (verify, reset, email change, unsubscribe), bounded before anything reads it. */
export const LinkToken = z.string().min(10, 'This link is not valid').max(200, 'This link is not valid');
/** A command id: it becomes the Nats-Msg-Id of what the command appends, and a form's idempotency key carries one. */
export const CommandId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'Use 8 to 64 letters, digits, - or _');

/** Every command the command service answers on `cra.cmd.<name>`, with its request schema. */
export const commandSchemas = {
  /** Start a registration: reserve the username and send a verification link. */
  RequestRegistration: z.object({ username: Username, email: Email, password: Password }),
  /** Send a fresh verification link for a pending registration. */
  ResendVerification: z.object({ username: Username }),
  /** Follow the verification link: the account comes into being. */
  VerifyRegistration: z.object({ token: LinkToken }),
  /** Check a password and open a session. */
  LogIn: z.object({ username: Username, password: LoginPassword }),
  /** Close a session. */
  LogOut: z.object({ userId: AggregateId, sessionId: z.uuid() }),
  /** Email a password-reset link to this registered user. */
  RequestPasswordReset: z.object({ userId: AggregateId }),
  /** Follow a reset link with a new password; ends every session. */
  ResetPassword: z.object({ token: LinkToken, password: Password }),
  /** Replace the password, proving the current one, from an open session: every other session ends, this one stays. */
  ChangePassword: z.object({
    userId: AggregateId,
    sessionId: z.uuid(),
    currentPassword: LoginPassword,
    newPassword: Password,
  }),
  /** End every open session of the user but this one ("Log out everywhere else"). */
  EndOtherSessions: z.object({ userId: AggregateId, sessionId: z.uuid() }),
  /** Check the password and email a link to a new address; the address changes only once the link is followed. */
  RequestEmailChange: z.object({ userId: AggregateId, email: Email, password: LoginPassword }),
  /** Follow the link sent to the new address: the account's address becomes that one. */
  ConfirmEmailChange: z.object({ token: LinkToken }),
  /** Create an alert on BASE/QUOTE with its rule (a threshold by default; docs/design.md §4b). */
  SetAlert: withFittingRule(
    z.object({
      userId: AggregateId,
      alertId: AggregateId,
      base: CurrencyCode,
      quote: CurrencyCode,
      ...alertRuleFields,
    }),
  ),
  /** Change the rule of one of the user's alerts (its pair stays). */
  EditAlert: withFittingRule(z.object({ userId: AggregateId, alertId: AggregateId, ...alertRuleFields })),
  /** Pause one of the user's alerts: it triggers on no run until resumed. */
  PauseAlert: z.object({ userId: AggregateId, alertId: AggregateId }),
  /** Resume one of the user's paused alerts. */
  ResumeAlert: z.object({ userId: AggregateId, alertId: AggregateId }),
  /** Arm a once alert again after it triggered. */
  RearmAlert: z.object({ userId: AggregateId, alertId: AggregateId }),
  /** Delete one of the user's alerts. */
  DeleteAlert: z.object({ userId: AggregateId, alertId: AggregateId }),
  /** Stop or restart the alert digest emails of a user. */
  PauseAlertEmails: z.object({ userId: AggregateId }),
  /**
   * `retryRefusedAddress`: also try again the address the mail server refused for good (EmailUndeliverable), which
   * pauses alert emails as long as it is the account's address.
   */
  ResumeAlertEmails: z.object({ userId: AggregateId, retryRefusedAddress: z.boolean().optional() }),
  /** Add a webhook channel; the reply's `secret` (a `json` channel's signing secret) is shown once. */
  AddChannel: z.object({ userId: AggregateId, channelId: AggregateId, url: WebhookUrl, format: ChannelFormat }),
  /** Send a test message to one of the user's channels. */
  TestChannel: z.object({ userId: AggregateId, channelId: AggregateId, testId: AggregateId }),
  /** Stop a channel: by its owner, or by the notifier once its deliveries keep failing (`failing`). */
  PauseChannel: z.object({ userId: AggregateId, channelId: AggregateId, reason: PauseReason.default('owner') }),
  ResumeChannel: z.object({ userId: AggregateId, channelId: AggregateId }),
  DeleteChannel: z.object({ userId: AggregateId, channelId: AggregateId }),
  /** The owner deletes their account, confirming with the password: everything of theirs is erased. */
  DeleteAccount: z.object({ userId: AggregateId, password: LoginPassword }),
  /** An operator erases an account (`cra erase --user NAME`), pending or registered, without its password. */
  EraseAccount: z.object({ userId: AggregateId }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export type CommandPayload<N extends CommandName> = z.infer<(typeof commandSchemas)[N]>;

/** The envelope of a command request; commandId becomes the Nats-Msg-Id of what it appends. */
export const CommandEnvelope = z.object({
  commandId: CommandId,
  correlationId: z.string().min(1).max(64),
  payload: z.unknown(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

/** Domain errors a command may answer with; the web maps each to a page and status in one place. */
export const DomainErrorCode = z.enum([
  'INVALID_COMMAND',
  'USERNAME_TAKEN',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_USED',
  'INVALID_CREDENTIALS',
  // The session a command was sent from has ended (a logout, a password change elsewhere): log in again.
  'SESSION_ENDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'TOO_MANY_EMAILS',
  'TOO_MANY_ALERTS',
  'TOO_MANY_CHANNELS',
  'UNKNOWN_CURRENCY',
  'CONFLICT',
  'UNAVAILABLE',
  // Sent, but no answer came in time: the command may have been stored; the same command again is stored once.
  'UNCONFIRMED',
]);
export type DomainErrorCode = z.infer<typeof DomainErrorCode>;

export const CommandReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    seq: z.number().int().nonnegative(),
    result: z.record(z.string(), z.string()).default({}),
  }),
  // fields: the command's fields a refusal is about, so a form shows its message beside them.
  z.object({
    ok: z.literal(false),
    error: DomainErrorCode,
    message: z.string(),
    fields: z.array(z.string()).optional(),
  }),
]);
export type CommandReply = z.infer<typeof CommandReply>;
