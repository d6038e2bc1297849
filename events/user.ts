import { z } from 'zod';
import { Email, IsoTimestamp, LookupHash, Personal, Sha256Hex, Username } from './ids.ts';

// The user aggregate: one subject per normalised username, so the log itself keeps usernames unique. Usernames and
// email addresses are personal: sealed under the person's key (Personal, personalFields in catalog.ts).
const UserId = z.string().regex(/^u[0-9a-f]{32}$/);

export const userEvents = {
  /** Someone asked to register; the account exists only once the emailed link is followed. */
  RegistrationRequested: z.object({
    userId: UserId,
    username: Personal(Username),
    email: Personal(Email),
    /** The address's lookup hash, for the read model (absent in events written before sealing). */
    emailLookup: LookupHash.optional(),
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
  UserRegistered: z.object({ userId: UserId, username: Personal(Username), email: Personal(Email) }),
  /** A pending registration passed its deadline unverified; the username is free again. */
  RegistrationExpired: z.object({ userId: UserId, username: Personal(Username) }),
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
  /**
   * The password was replaced: through a reset link, which ends every open session, or on the account page from the
   * session `keptSessionId`, which stays open while every other one ends. (keptSessionId came later as an optional
   * field: a payload without it is a reset, as every one written before it was.)
   */
  PasswordChanged: z.object({
    userId: UserId,
    passwordHash: z.string().startsWith('$argon2id$'),
    endedSessionIds: z.array(z.uuid()),
    keptSessionId: z.uuid().optional(),
  }),
  /** The user ended these sessions of theirs from the session `keptSessionId`, which stays open ("Log out everywhere else"). */
  SessionsEnded: z.object({ userId: UserId, sessionIds: z.array(z.uuid()).min(1), keptSessionId: z.uuid() }),
  /**
   * A signed-in user asked, with their password, to move the account to a new address: a link goes to that address,
   * and the account keeps its current address until the link is followed.
   */
  EmailChangeRequested: z.object({
    userId: UserId,
    email: Personal(Email),
    /** The new address's lookup hash, for the read model once the change is confirmed. */
    emailLookup: LookupHash,
    tokenNonce: z.string().min(22),
    tokenHash: Sha256Hex,
    expiresAt: IsoTimestamp,
  }),
  /** The link sent to the new address was followed: the account's address is `email` from now on. */
  EmailChanged: z.object({
    userId: UserId,
    email: Personal(Email),
    emailLookup: LookupHash,
    previousEmail: Personal(Email),
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
  AccountErased: z.object({
    userId: UserId,
    by: z.enum(['owner', 'operator']),
    /**
     * The revision of the person's key when they were erased (platform/personalData), the one the notifier destroys:
     * never a newer one of someone who registered the username since. Absent: they had none.
     */
    keyRevision: z.number().int().positive().optional(),
  }),
} as const;
