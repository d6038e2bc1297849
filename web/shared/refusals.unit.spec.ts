import { describe, expect, it } from 'vitest';
import { DomainErrorCode } from '../../events/index.ts';
import { refusalAnswer, type RefusedAt } from './refusals.ts';

const PLACES: readonly RefusedAt[] = ['registerForm', 'loginForm', 'passwordResetForm', 'alertForm', 'verificationLink', 'elsewhere'];

describe('refusalAnswer', () => {
  it('gives every refusal a page of its own, with a 4xx or 5xx status, where no form shows it', () => {
    expect(Object.fromEntries(DomainErrorCode.options.map((code) => [code, refusalAnswer(code, 'elsewhere')]))).toEqual({
      INVALID_COMMAND: { shownIn: 'page', status: 400, title: 'Request refused', text: 'That request was not valid. Go back and check the form.', onwards: { href: '/', label: 'Go home' } },
      ALREADY_EXISTS: { shownIn: 'page', status: 400, title: 'Request refused', text: 'That request was not valid. Go back and check the form.', onwards: { href: '/', label: 'Go home' } },
      USERNAME_TAKEN: { shownIn: 'page', status: 422, title: 'Username taken', text: 'That username is taken.', onwards: { href: '/', label: 'Go home' } },
      TOKEN_INVALID: { shownIn: 'page', status: 400, title: 'Link not valid', text: 'That link is not valid any more.', onwards: { href: '/', label: 'Go home' } },
      TOKEN_EXPIRED: { shownIn: 'page', status: 400, title: 'Link not valid', text: 'That link is not valid any more.', onwards: { href: '/', label: 'Go home' } },
      TOKEN_USED: { shownIn: 'page', status: 400, title: 'Link not valid', text: 'That link is not valid any more.', onwards: { href: '/', label: 'Go home' } },
      INVALID_CREDENTIALS: { shownIn: 'page', status: 401, title: 'Log in', text: 'Wrong username or password.', onwards: { href: '/', label: 'Go home' } },
      NOT_FOUND: { shownIn: 'page', status: 404, title: 'Not found', text: 'There is nothing here (or it is not yours).', onwards: { href: '/', label: 'Go home' } },
      TOO_MANY_EMAILS: { shownIn: 'page', status: 429, title: 'Too many emails', text: 'Too many emails were sent for this account recently. Try again in an hour.', onwards: { href: '/', label: 'Go home' } },
      CONFLICT: { shownIn: 'page', status: 503, title: 'Temporarily unavailable', text: 'The service is temporarily unavailable. Nothing was changed; try again in a moment.', onwards: { href: '/', label: 'Go home' } },
      UNAVAILABLE: { shownIn: 'page', status: 503, title: 'Temporarily unavailable', text: 'The service is temporarily unavailable. Nothing was changed; try again in a moment.', onwards: { href: '/', label: 'Go home' } },
    });
  });

  it('shows beside its fields what each form shows there, with the status of a refused form', () => {
    expect(refusalAnswer('USERNAME_TAKEN', 'registerForm')).toEqual({ shownIn: 'form', status: 422, field: 'username', text: 'That username is taken' });
    for (const code of ['INVALID_CREDENTIALS', 'INVALID_COMMAND'] as const) {
      expect(refusalAnswer(code, 'loginForm'), code).toEqual({ shownIn: 'form', status: 401, field: 'form', text: 'Wrong username or password' });
    }
    expect(refusalAnswer('TOKEN_USED', 'passwordResetForm')).toEqual({ shownIn: 'form', status: 410, field: 'form', text: 'This reset link was already used. Ask for a new one.' });
    expect(refusalAnswer('TOKEN_EXPIRED', 'passwordResetForm')).toEqual({ shownIn: 'form', status: 410, field: 'form', text: 'This reset link has expired. Ask for a new one.' });
    for (const code of ['TOKEN_INVALID', 'INVALID_COMMAND'] as const) {
      expect(refusalAnswer(code, 'passwordResetForm'), code).toEqual({ shownIn: 'form', status: 400, field: 'form', text: 'This reset link is not valid. Ask for a new one.' });
    }
    expect(refusalAnswer('INVALID_COMMAND', 'alertForm')).toEqual({ shownIn: 'form', status: 422, field: 'form', text: 'That alert could not be set. Check the currencies and the threshold.' });
  });

  it('answers a refused verification link with a page that says what to do next', () => {
    expect(refusalAnswer('TOKEN_USED', 'verificationLink')).toEqual({ shownIn: 'page', status: 410, title: 'Link already used', text: 'This link was already used. Your account is registered: log in.', onwards: { href: '/login', label: 'Log in' } });
    expect(refusalAnswer('TOKEN_EXPIRED', 'verificationLink')).toEqual({ shownIn: 'page', status: 410, title: 'Link expired', text: 'This verification link has expired. Register again, or ask for a new link.', onwards: { href: '/register/resend', label: 'Send a new link' } });
    for (const code of ['TOKEN_INVALID', 'INVALID_COMMAND'] as const) {
      expect(refusalAnswer(code, 'verificationLink'), code).toEqual({ shownIn: 'page', status: 400, title: 'Link not valid', text: 'This verification link is not valid. Copy the whole link from the email.', onwards: { href: '/register/resend', label: 'Send a new link' } });
    }
  });

  it('shows the rest of every place on the page the refusal gets anywhere else', () => {
    const shownInForm = new Set(['registerForm USERNAME_TAKEN', 'loginForm INVALID_CREDENTIALS', 'loginForm INVALID_COMMAND', 'alertForm INVALID_COMMAND']);
    for (const at of PLACES) {
      for (const code of DomainErrorCode.options) {
        const answer = refusalAnswer(code, at);
        if (at === 'passwordResetForm' && ['TOKEN_USED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'INVALID_COMMAND'].includes(code)) continue;
        if (at === 'verificationLink' && ['TOKEN_USED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'INVALID_COMMAND'].includes(code)) continue;
        if (shownInForm.has(`${at} ${code}`)) expect(answer.shownIn, `${at} ${code}`).toBe('form');
        else expect(answer, `${at} ${code}`).toEqual(refusalAnswer(code, 'elsewhere'));
      }
    }
  });
});
