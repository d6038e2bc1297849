import { z } from 'zod';
import { AggregateId, Email, Username } from './ids.ts';
import { CurrencyCode, Threshold } from './decimal.ts';

const Password = z.string().min(10, 'Use at least 10 characters').max(256, 'Use at most 256 characters');
const Token = z.string().min(10).max(200);

/** Every command the command service answers on `cra.cmd.<name>`, with its request schema. */
export const commandSchemas = {
  /** Start a registration: reserve the username and send a verification link. */
  RequestRegistration: z.object({ username: Username, email: Email, password: Password }),
  /** Send a fresh verification link for a pending registration. */
  ResendVerification: z.object({ username: Username }),
  /** Follow the verification link: the account comes into being. */
  VerifyRegistration: z.object({ token: Token }),
  /** Check a password and open a session. */
  LogIn: z.object({ username: Username, password: z.string().min(1).max(256) }),
  /** Close a session. */
  LogOut: z.object({ userId: AggregateId, sessionId: z.uuid() }),
  /** Email a password-reset link to this registered user. */
  RequestPasswordReset: z.object({ userId: AggregateId }),
  /** Follow a reset link with a new password; ends every session. */
  ResetPassword: z.object({ token: Token, password: Password }),
  /** Create an alert on BASE/QUOTE. */
  SetAlert: z.object({ userId: AggregateId, alertId: AggregateId, base: CurrencyCode, quote: CurrencyCode, threshold: Threshold }),
  /** Delete one of the user's alerts. */
  DeleteAlert: z.object({ userId: AggregateId, alertId: AggregateId }),
  /** Stop or restart the alert digest emails of a user. */
  PauseAlertEmails: z.object({ userId: AggregateId }),
  ResumeAlertEmails: z.object({ userId: AggregateId }),
} as const;

export type CommandName = keyof typeof commandSchemas;
export type CommandPayload<N extends CommandName> = z.infer<(typeof commandSchemas)[N]>;

/** The envelope of a command request; commandId becomes the Nats-Msg-Id of what it appends. */
export const CommandEnvelope = z.object({
  commandId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
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
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'TOO_MANY_EMAILS',
  'CONFLICT',
  'UNAVAILABLE',
  // Sent, but no answer came in time: the command may have been stored; the same command again is stored once.
  'UNCONFIRMED',
]);
export type DomainErrorCode = z.infer<typeof DomainErrorCode>;

export const CommandReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), seq: z.number().int().nonnegative(), result: z.record(z.string(), z.string()).default({}) }),
  z.object({ ok: z.literal(false), error: DomainErrorCode, message: z.string() }),
]);
export type CommandReply = z.infer<typeof CommandReply>;

