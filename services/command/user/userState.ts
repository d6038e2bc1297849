import { match } from 'ts-pattern';
import type { UserEvent } from '../../../events/index.ts';

// How long each emailed link and a session last; the events record deadlines, so the state reads issue times back.
const HOUR = 3_600_000;
export const VERIFICATION_TTL_MS = 24 * HOUR;
export const RESET_TTL_MS = HOUR;
export const EMAIL_CHANGE_TTL_MS = 24 * HOUR;
export const SESSION_TTL_MS = 7 * 24 * HOUR;

type Token = { hash: string; expiresAt: string };
/** A requested change of address: the new address and the link that confirms it. */
type EmailChange = Token & { email: string; emailLookup: string };

/** A link's issue time: its deadline minus the link's lifetime (the events record the deadline). */
const issuedAt = (expiresAt: string, ttlMs: number) => Date.parse(expiresAt) - ttlMs;

// linkEmailsAt: when each link email (verification, resend, reset, email change) was issued, in ms; the per-account
// cap counts them. emailChange: the pending change of address, if any (only its latest link works); its links once
// followed stay in usedEmailChangeHashes, so each works once.
// 'erased': the account was erased (AccountErased). It keeps nothing that names the person: no username, address or
// password hash, so nobody logs in as it and no link email goes for it; the username may be registered anew, by anyone,
// as from 'none'. What it keeps are the used token hashes, so an old emailed link never works again, and the link email
// times, so erasing and registering again does not reset the per-address cap.
export type UserState =
  | { status: 'none'; usedVerificationHashes: string[]; linkEmailsAt: number[] }
  | { status: 'erased'; usedVerificationHashes: string[]; linkEmailsAt: number[]; keyRevision?: number }
  | {
      status: 'pending';
      userId: string;
      username: string;
      email: string;
      passwordHash: string;
      verification: Token;
      usedVerificationHashes: string[];
      linkEmailsAt: number[];
    }
  | {
      status: 'registered';
      userId: string;
      username: string;
      email: string;
      passwordHash: string;
      openSessions: string[];
      reset: Token | null;
      usedResetHashes: string[];
      usedVerificationHashes: string[];
      alertEmailsPaused: boolean;
      linkEmailsAt: number[];
      emailChange: EmailChange | null;
      usedEmailChangeHashes: string[];
    };

export const initialUserState: UserState = { status: 'none', usedVerificationHashes: [], linkEmailsAt: [] };

export function evolveUser(state: UserState, event: UserEvent): UserState {
  return match(event)
    .with({ type: 'RegistrationRequested' }, ({ data }): UserState => ({
      status: 'pending',
      userId: data.userId,
      username: data.username,
      email: data.email,
      passwordHash: data.passwordHash,
      verification: { hash: data.tokenHash, expiresAt: data.expiresAt },
      usedVerificationHashes: state.usedVerificationHashes,
      linkEmailsAt: [...state.linkEmailsAt, issuedAt(data.expiresAt, VERIFICATION_TTL_MS)],
    }))
    .with({ type: 'VerificationReissued' }, ({ data }): UserState =>
      state.status === 'pending'
        ? {
            ...state,
            verification: { hash: data.tokenHash, expiresAt: data.expiresAt },
            linkEmailsAt: [...state.linkEmailsAt, issuedAt(data.expiresAt, VERIFICATION_TTL_MS)],
          }
        : state,
    )
    .with({ type: 'RegistrationExpired' }, (): UserState => ({
      status: 'none',
      usedVerificationHashes: state.usedVerificationHashes,
      linkEmailsAt: state.linkEmailsAt,
    }))
    .with({ type: 'UserRegistered' }, (): UserState =>
      state.status === 'pending'
        ? {
            status: 'registered',
            userId: state.userId,
            username: state.username,
            email: state.email,
            passwordHash: state.passwordHash,
            openSessions: [],
            reset: null,
            usedResetHashes: [],
            usedVerificationHashes: [...state.usedVerificationHashes, state.verification.hash],
            alertEmailsPaused: false,
            linkEmailsAt: state.linkEmailsAt,
            emailChange: null,
            usedEmailChangeHashes: [],
          }
        : state,
    )
    .with({ type: 'UserLoggedIn' }, ({ data }) =>
      state.status === 'registered' ? { ...state, openSessions: [...state.openSessions, data.sessionId] } : state,
    )
    .with({ type: 'UserLoggedOut' }, ({ data }) =>
      state.status === 'registered'
        ? { ...state, openSessions: state.openSessions.filter((s) => s !== data.sessionId) }
        : state,
    )
    .with({ type: 'SessionsEnded' }, ({ data }) =>
      state.status === 'registered'
        ? { ...state, openSessions: state.openSessions.filter((s) => !data.sessionIds.includes(s)) }
        : state,
    )
    .with({ type: 'PasswordResetRequested' }, ({ data }) =>
      state.status === 'registered'
        ? {
            ...state,
            reset: { hash: data.tokenHash, expiresAt: data.expiresAt },
            linkEmailsAt: [...state.linkEmailsAt, issuedAt(data.expiresAt, RESET_TTL_MS)],
          }
        : state,
    )
    .with({ type: 'PasswordChanged' }, ({ data }) =>
      state.status === 'registered'
        ? {
            ...state,
            passwordHash: data.passwordHash,
            openSessions: state.openSessions.filter((s) => !data.endedSessionIds.includes(s)),
            usedResetHashes: state.reset ? [...state.usedResetHashes, state.reset.hash] : state.usedResetHashes,
            reset: null,
            // A new password cancels a pending change of address: whoever asked for it with the old one cannot finish it.
            emailChange: null,
          }
        : state,
    )
    .with({ type: 'EmailChangeRequested' }, ({ data }) =>
      state.status === 'registered'
        ? {
            ...state,
            emailChange: {
              email: data.email,
              emailLookup: data.emailLookup,
              hash: data.tokenHash,
              expiresAt: data.expiresAt,
            },
            linkEmailsAt: [...state.linkEmailsAt, issuedAt(data.expiresAt, EMAIL_CHANGE_TTL_MS)],
          }
        : state,
    )
    .with({ type: 'EmailChanged' }, ({ data }) =>
      state.status === 'registered'
        ? {
            ...state,
            email: data.email,
            usedEmailChangeHashes: state.emailChange
              ? [...state.usedEmailChangeHashes, state.emailChange.hash]
              : state.usedEmailChangeHashes,
            emailChange: null,
          }
        : state,
    )
    .with({ type: 'AlertEmailsPaused' }, () =>
      state.status === 'registered' ? { ...state, alertEmailsPaused: true } : state,
    )
    .with({ type: 'AlertEmailsResumed' }, () =>
      state.status === 'registered' ? { ...state, alertEmailsPaused: false } : state,
    )
    .with({ type: 'AccountErased' }, ({ data }): UserState => ({
      status: 'erased',
      usedVerificationHashes: state.usedVerificationHashes,
      linkEmailsAt: state.linkEmailsAt,
      ...(data.keyRevision ? { keyRevision: data.keyRevision } : {}),
    }))
    .exhaustive();
}
