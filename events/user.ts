import { z } from 'zod';
import { Email, IsoTimestamp, Sha256Hex, Username } from './ids.ts';

// The user aggregate: one subject per normalised username, so the log itself keeps usernames unique.
const UserId = z.string().regex(/^u[0-9a-f]{32}$/);

export const userEvents = {
  /** Someone asked to register; the account exists only once the emailed link is followed. */
  RegistrationRequested: z.object({
    userId: UserId,
    username: Username,
    email: Email,
    passwordHash: z.string().startsWith('$argon2id$'),
    tokenNonce: z.string().min(22),
    tokenHash: Sha256Hex,
    expiresAt: IsoTimestamp,
  }),
  /** A fresh verification link was issued for a pending registration (resend). */
  VerificationReissued: z.object({
    userId: UserId,
    tokenNonce: z.string().min(22),
    tokenHash: Sha256Hex,
    expiresAt: IsoTimestamp,
  }),
  /** The verification link was followed: the account now exists. */
  UserRegistered: z.object({ userId: UserId, username: Username, email: Email }),
  /** A pending registration passed its deadline unverified; the username is free again. */
  RegistrationExpired: z.object({ userId: UserId, username: Username }),
  /** A session was opened by a successful login. */
  UserLoggedIn: z.object({ userId: UserId, sessionId: z.uuid(), expiresAt: IsoTimestamp }),
  /** A session was closed by logging out. */
  UserLoggedOut: z.object({ userId: UserId, sessionId: z.uuid() }),
  /** A password-reset link was requested for this account. */
  PasswordResetRequested: z.object({
    userId: UserId,
    tokenNonce: z.string().min(22),
    tokenHash: Sha256Hex,
    expiresAt: IsoTimestamp,
  }),
  /** The password was replaced through a reset link; every open session ended with it. */
  PasswordChanged: z.object({
    userId: UserId,
    passwordHash: z.string().startsWith('$argon2id$'),
    endedSessionIds: z.array(z.uuid()),
  }),
  /** The user turned alert emails off (one-click unsubscribe or the alerts page). */
  AlertEmailsPaused: z.object({ userId: UserId }),
  /** The user turned alert emails back on. */
  AlertEmailsResumed: z.object({ userId: UserId }),
  /**
   * The account was erased: by its owner (who gave the password) or by an operator (`cra erase`). Nobody can log in as
   * it any more, its rows leave every read model, and the username is free to register anew. It names no one: the
   * confirmation email's address is read from the account's own registration, before anything is destroyed.
   */
  AccountErased: z.object({ userId: UserId, by: z.enum(['owner', 'operator']) }),
} as const;
