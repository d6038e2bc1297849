import type { FastifyReply, FastifyRequest } from 'fastify';
import { match } from 'ts-pattern';
import type { CommandReply, DomainErrorCode } from '../../events/index.ts';
import type { FieldErrors } from './forms.ts';
import { messagePage } from './layout.ts';
import { isHtmx, sendPage } from './respond.ts';

/** A command the command service refused, as its reply says. */
export type Refused = Extract<CommandReply, { ok: false }>;

/** The forms that show some refusals beside their fields; any other refusal gets a page of its own. */
export type RefusingForm =
  | 'registerForm'
  | 'loginForm'
  | 'passwordResetForm'
  | 'alertForm'
  | 'alertEditForm'
  | 'passwordChangeForm'
  | 'emailChangeForm'
  | 'deleteAccountForm'
  | 'channelForm';
/** Where a refused command was sent from: one of those forms, a followed link (verification, change of address), or anywhere else. */
export type RefusedAt = RefusingForm | 'verificationLink' | 'emailChangeLink' | 'elsewhere';

type Onwards = { href: string; label: string };
/** A refusal as the user sees it: a page of its own, or a message in the form beside `field` (`form`: above the fields). */
export type RefusalAnswer =
  | { shownIn: 'page'; status: number; title: string; text: string; onwards: Onwards }
  | { shownIn: 'form'; status: number; field: string; text: string }
  /** In the form, in the refusal's own words (a decider's rule, written for the person), beside the fields it names. */
  | { shownIn: 'form'; status: number; field: string; ownWords: true };

const HOME: Onwards = { href: '/', label: 'Go home' };
const NEW_LINK: Onwards = { href: '/register/resend', label: 'Send a new link' };
const LOG_IN: Onwards = { href: '/login', label: 'Log in' };
const EMAIL_ADDRESS: Onwards = { href: '/account/email', label: 'Your email address' };

const page = (status: number, title: string, text: string, onwards = HOME): RefusalAnswer => ({
  shownIn: 'page',
  status,
  title,
  text,
  onwards,
});
const inForm = (status: number, field: string, text: string): RefusalAnswer => ({
  shownIn: 'form',
  status,
  field,
  text,
});

const REFUSED = page(400, 'Request refused', 'That request was not valid. Go back and check the form.');
const LINK_NOT_VALID = page(400, 'Link not valid', 'That link is not valid any more.');
const VERIFICATION_LINK_NOT_VALID = page(
  400,
  'Link not valid',
  'This verification link is not valid. Copy the whole link from the email.',
  NEW_LINK,
);
const RESET_LINK_NOT_VALID = inForm(400, 'form', 'This reset link is not valid. Ask for a new one.');
const EMAIL_CHANGE_LINK_NOT_VALID = page(
  400,
  'Link not valid',
  'This link to change your email address is not valid: a newer one was sent, or the password was reset since. Your address was not changed; ask for a new link.',
  EMAIL_ADDRESS,
);
const WRONG_CREDENTIALS = inForm(401, 'form', 'Wrong username or password');
const IN_ITS_OWN_WORDS: RefusalAnswer = { shownIn: 'form', status: 422, field: 'form', ownWords: true };
const UNAVAILABLE = page(
  503,
  'Temporarily unavailable',
  'The service is temporarily unavailable. Nothing was changed; try again in a moment.',
);

/**
 * The one place a refused command becomes what the user sees and its status: one case per code, so a new code does
 * not compile until it has its answer; within a case, where it was sent from decides whether a form shows it.
 */
export function refusalAnswer(error: DomainErrorCode, at: RefusedAt): RefusalAnswer {
  return (
    match(error)
      .returnType<RefusalAnswer>()
      .with('INVALID_COMMAND', () =>
        match(at)
          .returnType<RefusalAnswer>()
          // A username no account can have: the login says no more than for a wrong password.
          .with('loginForm', () => WRONG_CREDENTIALS)
          .with('passwordResetForm', () => RESET_LINK_NOT_VALID)
          .with('verificationLink', () => VERIFICATION_LINK_NOT_VALID)
          .with('emailChangeLink', () => EMAIL_CHANGE_LINK_NOT_VALID)
          // The decider's rule about the new address ("already your address"), beside that field.
          .with('alertForm', 'alertEditForm', 'emailChangeForm', () => IN_ITS_OWN_WORDS)
          .otherwise(() => REFUSED),
      )
      .with('ALREADY_EXISTS', () => REFUSED)
      .with('USERNAME_TAKEN', () =>
        at === 'registerForm'
          ? inForm(422, 'username', 'That username is taken')
          : page(422, 'Username taken', 'That username is taken.'),
      )
      .with('INVALID_CREDENTIALS', () =>
        match(at)
          .returnType<RefusalAnswer>()
          .with('loginForm', () => WRONG_CREDENTIALS)
          // Logged in, so no enumeration to fear: say which field is wrong. 422: the form, not the session, is refused.
          .with('passwordChangeForm', () => inForm(422, 'currentPassword', 'That is not your current password'))
          // Signed in already: the password typed to confirm the change is wrong, and the form says so beside it.
          .with('emailChangeForm', () => inForm(403, 'password', 'Wrong password'))
          // Deleting one's account: the password beside which it was typed was not the account's.
          .with('deleteAccountForm', () => inForm(422, 'password', 'That is not your password'))
          .otherwise(() => page(401, 'Log in', 'Wrong username or password.')),
      )
      // Ended by a logout or a change in another session, although the read model did not show it yet.
      .with('SESSION_ENDED', () => page(401, 'Session ended', 'This session has ended. Log in again.', LOG_IN))
      .with('TOKEN_INVALID', () =>
        match(at)
          .returnType<RefusalAnswer>()
          .with('passwordResetForm', () => RESET_LINK_NOT_VALID)
          .with('verificationLink', () => VERIFICATION_LINK_NOT_VALID)
          .with('emailChangeLink', () => EMAIL_CHANGE_LINK_NOT_VALID)
          .otherwise(() => LINK_NOT_VALID),
      )
      .with('TOKEN_EXPIRED', () =>
        match(at)
          .returnType<RefusalAnswer>()
          .with('passwordResetForm', () => inForm(410, 'form', 'This reset link has expired. Ask for a new one.'))
          .with('verificationLink', () =>
            page(
              410,
              'Link expired',
              'This verification link has expired. Register again, or ask for a new link.',
              NEW_LINK,
            ),
          )
          .with('emailChangeLink', () =>
            page(
              410,
              'Link expired',
              'This link to change your email address has expired. Your address was not changed; ask for a new link.',
              EMAIL_ADDRESS,
            ),
          )
          .otherwise(() => LINK_NOT_VALID),
      )
      .with('TOKEN_USED', () =>
        match(at)
          .returnType<RefusalAnswer>()
          .with('passwordResetForm', () => inForm(410, 'form', 'This reset link was already used. Ask for a new one.'))
          .with('verificationLink', () =>
            page(410, 'Link already used', 'This link was already used. Your account is registered: log in.', LOG_IN),
          )
          .with('emailChangeLink', () =>
            page(
              410,
              'Link already used',
              'This link was already used: your email address was changed when it was first followed.',
              EMAIL_ADDRESS,
            ),
          )
          .otherwise(() => LINK_NOT_VALID),
      )
      .with('NOT_FOUND', () => page(404, 'Not found', 'There is nothing here (or it is not yours).'))
      .with('TOO_MANY_EMAILS', () =>
        at === 'emailChangeForm'
          ? inForm(429, 'form', 'Too many emails were sent for this account recently. Try again in an hour.')
          : page(429, 'Too many emails', 'Too many emails were sent for this account recently. Try again in an hour.'),
      )
      .with('TOO_MANY_ALERTS', 'UNKNOWN_CURRENCY', () => (at === 'alertForm' ? IN_ITS_OWN_WORDS : REFUSED))
      .with('TOO_MANY_CHANNELS', () => (at === 'channelForm' ? IN_ITS_OWN_WORDS : REFUSED))
      .with('CONFLICT', 'UNAVAILABLE', () => UNAVAILABLE)
      // Sent but never answered: it may have been stored, and the command id makes a second send safe.
      .with('UNCONFIRMED', () =>
        page(
          503,
          'Temporarily unavailable',
          'The service did not confirm your change in time: it may have been saved. Sending it again is safe.',
        ),
      )
      .exhaustive()
  );
}

/**
 * A page of its own for a refused request. htmx swaps it in for the whole page: its markup is a whole page, which
 * in the form or section that asked would nest a page in a page.
 */
function sendRefusalPage(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: Extract<RefusalAnswer, { shownIn: 'page' }>,
) {
  if (isHtmx(request)) reply.header('HX-Retarget', 'body').header('HX-Reswap', 'innerHTML');
  return sendPage(request, reply, {
    status: answer.status,
    title: answer.title,
    body: messagePage(answer.title, answer.text, answer.onwards),
  });
}

/** Shows a form again with these errors beside its fields, answered with `status`. */
type ShowInForm = (errors: FieldErrors, status: number) => FastifyReply | Promise<FastifyReply>;

/** Answer a refused command sent from a form: `showInForm` shows the refusals the form shows beside its fields. */
export function sendRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  refused: Refused,
  at: RefusingForm,
  showInForm: ShowInForm,
): ReturnType<ShowInForm>;
/** Answer a refused command with its page. */
export function sendRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  refused: Refused,
  at?: Exclude<RefusedAt, RefusingForm>,
): FastifyReply;
export function sendRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  refused: Refused,
  at: RefusedAt = 'elsewhere',
  showInForm?: ShowInForm,
) {
  const answer = refusalAnswer(refused.error, at);
  // Only the forms' own answers are shown in a form, and a form's caller always passes showInForm.
  if (answer.shownIn === 'form') {
    if (!('ownWords' in answer)) return showInForm!({ [answer.field]: answer.text }, answer.status);
    return showInForm!(
      Object.fromEntries((refused.fields ?? [answer.field]).map((field) => [field, refused.message])),
      answer.status,
    );
  }
  if (answer.status === 503) request.log.warn({ error: refused.error, reason: refused.message }, 'command failed');
  return sendRefusalPage(request, reply, answer);
}

/** The page of a request refused by a rate limit where no form shows the limit beside it (a followed link). */
export function tooManyAttempts(request: FastifyRequest, reply: FastifyReply, text: string) {
  return sendRefusalPage(request, reply, {
    shownIn: 'page',
    status: 429,
    title: 'Too many attempts',
    text,
    onwards: HOME,
  });
}
