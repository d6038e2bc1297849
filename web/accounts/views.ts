import { html, type Html } from '../../platform/html.ts';
import { field, form, type FieldErrors } from '../shared/forms.ts';
import { notice } from '../shared/layout.ts';

export function registerForm(
  csrf: string,
  values: { username?: string; email?: string },
  errors: FieldErrors = {},
): Html {
  return form(
    '/register',
    csrf,
    errors,
    html`${field({ name: 'username', label: 'Username', value: values.username ?? '', error: errors.username, autocomplete: 'username' })}
  ${field({ name: 'email', label: 'Email', type: 'email', value: values.email ?? '', error: errors.email, autocomplete: 'email' })}
  ${field({ name: 'password', label: 'Password (at least 10 characters)', type: 'password', error: errors.password, autocomplete: 'new-password' })}`,
    'Register',
  );
}

export const registerPage = (
  csrf: string,
  values: { username?: string; email?: string } = {},
  errors: FieldErrors = {},
) =>
  html`<h1>Create an account</h1>${registerForm(csrf, values, errors)}
<p class="muted">Already registered? <a href="/login">Log in</a>. Lost the verification email? <a href="/register/resend">Send it again</a>.</p>`;

export const checkEmailPage = (what: string) =>
  html`<h1>Check your email</h1>${notice('good', what)}<p class="muted">The link is valid for a limited time. <a href="/login">Log in</a></p>`;

/** `next`: where a good login goes (a path already checked safe); the form carries it as the page's address did. */
export function loginForm(csrf: string, values: { username?: string; next?: string }, errors: FieldErrors = {}): Html {
  return form(
    values.next ? `/login?next=${encodeURIComponent(values.next)}` : '/login',
    csrf,
    errors,
    html`${field({ name: 'username', label: 'Username', value: values.username ?? '', error: errors.username, autocomplete: 'username' })}
  ${field({ name: 'password', label: 'Password', type: 'password', error: errors.password, autocomplete: 'current-password' })}`,
    'Log in',
  );
}

export const loginPage = (
  csrf: string,
  values: { username?: string; next?: string } = {},
  errors: FieldErrors = {},
  banner?: Html,
) =>
  html`<h1>Log in</h1>${banner ?? ''}${loginForm(csrf, values, errors)}
<p class="muted"><a href="/password/forgot">Forgot your password?</a> · <a href="/register">Create an account</a></p>`;

export const resendForm = (csrf: string, values: { username?: string }, errors: FieldErrors = {}) =>
  form(
    '/register/resend',
    csrf,
    errors,
    field({ name: 'username', label: 'Username', value: values.username ?? '', error: errors.username }),
    'Send the link again',
  );

export const resendPage = (csrf: string, values: { username?: string } = {}, errors: FieldErrors = {}) =>
  html`<h1>Send the verification link again</h1>${resendForm(csrf, values, errors)}`;

export const forgotForm = (csrf: string, values: { email?: string }, errors: FieldErrors = {}) =>
  form(
    '/password/forgot',
    csrf,
    errors,
    field({
      name: 'email',
      label: 'Email',
      type: 'email',
      value: values.email ?? '',
      error: errors.email,
      autocomplete: 'email',
    }),
    'Email me a reset link',
  );

export const forgotPage = (csrf: string, values: { email?: string } = {}, errors: FieldErrors = {}) =>
  html`<h1>Reset your password</h1>${forgotForm(csrf, values, errors)}`;

export const resetForm = (csrf: string, token: string, errors: FieldErrors = {}) =>
  form(
    '/password/reset',
    csrf,
    errors,
    html`<input type="hidden" name="token" value="${token}">
  ${field({ name: 'password', label: 'New password (at least 10 characters)', type: 'password', error: errors.password, autocomplete: 'new-password' })}`,
    'Set the new password',
  );

export const resetPage = (csrf: string, token: string, errors: FieldErrors = {}) =>
  html`<h1>Choose a new password</h1>${resetForm(csrf, token, errors)}`;
