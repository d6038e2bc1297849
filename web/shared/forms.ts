import { html, type Html } from '../../platform/html.ts';

/** A form's errors by field name; `form` is shown above the fields. */
export type FieldErrors = Partial<Record<string, string>> & { form?: string };

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** The message above a form's fields, read out at once by screen readers. */
export const formError = (text: string | undefined) =>
  text ? html`<p class="form-error" role="alert">${text}</p>` : '';

/** The attributes that tie a field (`id`) to its error message below, when it has one. */
export const invalidAttributes = (id: string, error: string | undefined) =>
  error ? html` aria-invalid="true" aria-describedby="${id}-error"` : '';

/** The error message beside the field `id`, when it has one. */
export const fieldError = (id: string, error: string | undefined) =>
  error ? html`<span class="field-error" id="${id}-error">${error}</span>` : '';

/** Forms post normally (no JavaScript needed); htmx swaps just the form on errors. */
export function form(action: string, csrf: string, errors: FieldErrors, fields: Html, submit: string): Html {
  return html`<form class="stack" method="post" action="${action}" hx-post="${action}" hx-swap="outerHTML" novalidate>
  ${csrfField(csrf)}${formError(errors.form)}${fields}
  <button type="submit">${submit}</button>
</form>`;
}

/** A labelled input with its error message right beside it; its id is `f-<name>` unless a page with several forms names it. */
export function field(options: {
  name: string;
  id?: string;
  label: string;
  type?: string;
  value?: string;
  error?: string | undefined;
  autocomplete?: string;
}): Html {
  const id = options.id ?? `f-${options.name}`;
  return html`<label for="${id}">${options.label}
  <input id="${id}" name="${options.name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}"${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}${invalidAttributes(id, options.error)}>
  ${fieldError(id, options.error)}
</label>`;
}
