import { describe, expect, it } from 'vitest';
import { html } from '../../platform/html.ts';
import { field } from './forms.ts';
import { focusFirstInvalid } from './respond.ts';

describe('focusFirstInvalid', () => {
  it('gives the focus to the first field marked invalid, and to no other', () => {
    const fields = html`${field({ name: 'a', label: 'A' })}${field({ name: 'b', label: 'B', error: 'Bad' })}${field({ name: 'c', label: 'C', error: 'Bad too' })}`;
    const focused = focusFirstInvalid(fields).value;
    expect(focused.match(/autofocus/g)).toHaveLength(1);
    expect(focused).toContain('id="f-b" name="b" type="text" value="" aria-invalid="true" autofocus');
  });

  it('is not fooled by what a user typed', () => {
    const typed = html`${field({ name: 'a', label: 'A', value: ' aria-invalid="true"' })}`;
    expect(focusFirstInvalid(typed).value).toBe(typed.value);
  });
});
