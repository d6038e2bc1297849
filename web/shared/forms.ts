import { html, type Html } from '../../platform/html.ts';

export type FieldErrors = Partial<Record<string, string>> & { form?: string };

export const formError = (errors: FieldErrors) => (errors.form ? html`<p class="form-error" role="alert">${errors.form}</p>` : '');

/** Forms post normally (no JavaScript needed); htmx swaps just the form on errors. */
export function form(action: string, csrf: string, errors: FieldErrors, fields: Html, submit: string): Html {
  return html`<form class="stack" method="post" action="${action}" hx-post="${action}" hx-swap="outerHTML" novalidate>
  ${csrfField(csrf)}${formError(errors)}${fields}
  <button type="submit">${submit}</button>
</form>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

/** A labelled input with its error message right beside it. */
export function field(options: { name: string; label: string; type?: string; value?: string; error?: string | undefined; autocomplete?: string; extra?: Html }): Html {
  const id = `f-${options.name}`;
  return html`<label for="${id}">${options.label}
  <input id="${id}" name="${options.name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}"${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}${options.error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
  ${options.error ? html`<span class="field-error" id="${id}-error">${options.error}</span>` : ''}
</label>`;
}
