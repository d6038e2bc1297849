import { describe, expect, it } from 'vitest';
import { DomainErrorCode } from '../../events/index.ts';
import { refusalAnswer, type RefusedAt } from './refusals.ts';

const PLACES: readonly RefusedAt[] = [
  'registerForm',
  'loginForm',
  'passwordResetForm',
  'alertForm',
  'passwordChangeForm',
  'emailChangeForm',
  'deleteAccountForm',
  'verificationLink',
  'emailChangeLink',
  'elsewhere',
];
const HOME = { href: '/', label: 'Go home' };
const NEW_LINK = { href: '/register/resend', label: 'Send a new link' };
const page = (status: number, title: string, text: string, onwards = HOME) => ({
  shownIn: 'page',
  status,
  title,
  text,
  onwards,
});
const inForm = (status: number, field: string, text: string) => ({ shownIn: 'form', status, field, text });
const REFUSED = page(400, 'Request refused', 'That request was not valid. Go back and check the form.');
const LINK_NOT_VALID = page(400, 'Link not valid', 'That link is not valid any more.');
const UNAVAILABLE = page(
  503,
  'Temporarily unavailable',
  'The service is temporarily unavailable. Nothing was changed; try again in a moment.',
);

describe('refusalAnswer', () => {
  it('gives every refusal a page of its own, with a 4xx or 5xx status, where no form shows it', () => {
    expect(Object.fromEntries(DomainErrorCode.options.map((code) => [code, refusalAnswer(code, 'elsewhere')]))).toEqual(
      {
        INVALID_COMMAND: REFUSED,
        ALREADY_EXISTS: REFUSED,
        USERNAME_TAKEN: page(422, 'Username taken', 'That username is taken.'),
        TOKEN_INVALID: LINK_NOT_VALID,
        TOKEN_EXPIRED: LINK_NOT_VALID,
        TOKEN_USED: LINK_NOT_VALID,
        INVALID_CREDENTIALS: page(401, 'Log in', 'Wrong username or password.'),
        SESSION_ENDED: page(401, 'Session ended', 'This session has ended. Log in again.', {
          href: '/login',
          label: 'Log in',
        }),
        NOT_FOUND: page(404, 'Not found', 'There is nothing here (or it is not yours).'),
        TOO_MANY_EMAILS: page(
          429,
          'Too many emails',
          'Too many emails were sent for this account recently. Try again in an hour.',
        ),
        TOO_MANY_ALERTS: REFUSED,
        TOO_MANY_CHANNELS: REFUSED,
        UNKNOWN_CURRENCY: REFUSED,
        CONFLICT: UNAVAILABLE,
        UNAVAILABLE,
        UNCONFIRMED: page(
          503,
          'Temporarily unavailable',
          'The service did not confirm your change in time: it may have been saved. Sending it again is safe.',
        ),
      },
    );
  });

  it('shows beside its fields what each form shows there, with the status of a refused form', () => {
    expect(refusalAnswer('USERNAME_TAKEN', 'registerForm')).toEqual(inForm(422, 'username', 'That username is taken'));
    for (const code of ['INVALID_CREDENTIALS', 'INVALID_COMMAND'] as const) {
      expect(refusalAnswer(code, 'loginForm'), code).toEqual(inForm(401, 'form', 'Wrong username or password'));
    }
    expect(refusalAnswer('INVALID_CREDENTIALS', 'passwordChangeForm')).toEqual(
      inForm(422, 'currentPassword', 'That is not your current password'),
    );
    expect(refusalAnswer('TOKEN_USED', 'passwordResetForm')).toEqual(
      inForm(410, 'form', 'This reset link was already used. Ask for a new one.'),
    );
    expect(refusalAnswer('TOKEN_EXPIRED', 'passwordResetForm')).toEqual(
      inForm(410, 'form', 'This reset link has expired. Ask for a new one.'),
    );
    for (const code of ['TOKEN_INVALID', 'INVALID_COMMAND'] as const) {
      expect(refusalAnswer(code, 'passwordResetForm'), code).toEqual(
        inForm(400, 'form', 'This reset link is not valid. Ask for a new one.'),
      );
    }
    // The alert decider's refusals name their fields and are written for the person: the form shows them as they are.
    for (const code of ['INVALID_COMMAND', 'TOO_MANY_ALERTS', 'UNKNOWN_CURRENCY'] as const) {
      expect(refusalAnswer(code, 'alertForm'), code).toEqual({
        shownIn: 'form',
        status: 422,
        field: 'form',
        ownWords: true,
      });
    }
    // The channel cap is the channel decider's, written for the person, beside the URL it names.
    expect(refusalAnswer('TOO_MANY_CHANNELS', 'channelForm')).toEqual({
      shownIn: 'form',
      status: 422,
      field: 'form',
      ownWords: true,
    });
  });

  it('shows the change-of-address form its refusals beside the field they are about', () => {
    expect(refusalAnswer('INVALID_CREDENTIALS', 'emailChangeForm')).toEqual(inForm(403, 'password', 'Wrong password'));
    // "That is already your address": the decider's own words, beside the field it names.
    expect(refusalAnswer('INVALID_COMMAND', 'emailChangeForm')).toEqual({
      shownIn: 'form',
      status: 422,
      field: 'form',
      ownWords: true,
    });
    expect(refusalAnswer('TOO_MANY_EMAILS', 'emailChangeForm')).toEqual(
      inForm(429, 'form', 'Too many emails were sent for this account recently. Try again in an hour.'),
    );
  });

  it('answers a refused change-of-address link with a page that says the address did not change, or did', () => {
    const address = { href: '/account/email', label: 'Your email address' };
    expect(refusalAnswer('TOKEN_EXPIRED', 'emailChangeLink')).toEqual(
      page(
        410,
        'Link expired',
        'This link to change your email address has expired. Your address was not changed; ask for a new link.',
        address,
      ),
    );
    expect(refusalAnswer('TOKEN_USED', 'emailChangeLink')).toEqual(
      page(
        410,
        'Link already used',
        'This link was already used: your email address was changed when it was first followed.',
        address,
      ),
    );
    for (const code of ['TOKEN_INVALID', 'INVALID_COMMAND'] as const)
      expect(refusalAnswer(code, 'emailChangeLink'), code).toEqual(
        page(
          400,
          'Link not valid',
          'This link to change your email address is not valid: a newer one was sent, or the password was reset since. Your address was not changed; ask for a new link.',
          address,
        ),
      );
  });

  it('answers a refused verification link with a page that says what to do next', () => {
    const used = page(410, 'Link already used', 'This link was already used. Your account is registered: log in.', {
      href: '/login',
      label: 'Log in',
    });
    expect(refusalAnswer('TOKEN_USED', 'verificationLink')).toEqual(used);
    const expired = page(
      410,
      'Link expired',
      'This verification link has expired. Register again, or ask for a new link.',
      NEW_LINK,
    );
    expect(refusalAnswer('TOKEN_EXPIRED', 'verificationLink')).toEqual(expired);
    for (const code of ['TOKEN_INVALID', 'INVALID_COMMAND'] as const) {
      const notValid = page(
        400,
        'Link not valid',
        'This verification link is not valid. Copy the whole link from the email.',
        NEW_LINK,
      );
      expect(refusalAnswer(code, 'verificationLink'), code).toEqual(notValid);
    }
  });

  it('shows a wrong password beside the password field of the account deletion, and nowhere else', () => {
    expect(refusalAnswer('INVALID_CREDENTIALS', 'deleteAccountForm')).toEqual(
      inForm(422, 'password', 'That is not your password'),
    );
  });

  it('shows the rest of every place on the page the refusal gets anywhere else', () => {
    const links = ['TOKEN_USED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'INVALID_COMMAND'];
    const particular = new Set([
      'registerForm USERNAME_TAKEN',
      'loginForm INVALID_CREDENTIALS',
      'loginForm INVALID_COMMAND',
      'passwordChangeForm INVALID_CREDENTIALS',
      'alertForm INVALID_COMMAND',
      'alertForm TOO_MANY_ALERTS',
      'alertForm UNKNOWN_CURRENCY',
      'deleteAccountForm INVALID_CREDENTIALS',
      ...links.map((code) => `passwordResetForm ${code}`),
      ...links.map((code) => `verificationLink ${code}`),
      'emailChangeForm INVALID_CREDENTIALS',
      'emailChangeForm INVALID_COMMAND',
      'emailChangeForm TOO_MANY_EMAILS',
      ...links.map((code) => `emailChangeLink ${code}`),
    ]);
    for (const at of PLACES) {
      for (const code of DomainErrorCode.options) {
        if (!particular.has(`${at} ${code}`))
          expect(refusalAnswer(code, at), `${at} ${code}`).toEqual(refusalAnswer(code, 'elsewhere'));
      }
    }
  });
});
