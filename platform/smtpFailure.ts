/**
 * What a failed SMTP send means for the email (pure). nodemailer rejects with an error carrying the server's reply code
 * (`responseCode`), the reply (`response`) and what failed (`code`: EENVELOPE for a refused sender or recipient,
 * EMESSAGE for a refused message, EAUTH, ECONNECTION, ETIMEDOUT, ESOCKET…).
 *
 * - `permanent`: a 5xx reply to this email's envelope or message (RFC 5321 §4.2.1, "permanent negative completion"):
 *   the recipient's server will not take it, so it is not tried again.
 * - Otherwise it failed for now: a 4xx reply, a timeout, a connection that failed, and also a 5xx reply that is not about
 *   this email (a refused login, a server that turns everyone away at its greeting): those are the operator's to fix
 *   and say nothing about the address, so they are retried, within the bound, like an outage.
 *
 * `detail` names the failure by its codes only (`SMTP 550 5.1.1`, `timeout (ETIMEDOUT)`): a server's words often
 * repeat the address, which is personal, and they go into the log and onto pages.
 */
export type SmtpFailure = { permanent: boolean; code?: number; detail: string };

const ABOUT_THIS_EMAIL = new Set(['EENVELOPE', 'EMESSAGE']);

export function smtpFailure(error: unknown): SmtpFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    responseCode?: unknown;
    response?: unknown;
  };
  const what = typeof e.code === 'string' && /^E[A-Z]{2,20}$/.test(e.code) ? e.code : undefined;
  const code =
    typeof e.responseCode === 'number' && Number.isInteger(e.responseCode) && e.responseCode >= 200
      ? e.responseCode < 600
        ? e.responseCode
        : undefined
      : undefined;
  if (code === undefined) {
    const how = what === 'ETIMEDOUT' ? 'timeout' : 'connection failed';
    return { permanent: false, detail: what ? `${how} (${what})` : how };
  }
  // An enhanced status code (RFC 3463) right after the reply code says more than it: 5.1.1, no such mailbox.
  const enhanced =
    typeof e.response === 'string' ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(e.response)?.[1] : undefined;
  const detail = `SMTP ${code}${enhanced ? ` ${enhanced}` : ''}${what && !ABOUT_THIS_EMAIL.has(what) ? ` (${what})` : ''}`;
  return { permanent: code >= 500 && what !== undefined && ABOUT_THIS_EMAIL.has(what), code, detail };
}
