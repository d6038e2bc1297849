import { describe, expect, it } from 'vitest';
import { html } from '../../../platform/html.ts';
import { MarkupTemplate } from './markupTemplate.ts';

const form = (slot: { csrf: string; key: string }, userText: string) =>
  html`<body data-headers='${JSON.stringify({ token: slot.csrf })}'><p>${userText}</p><form><input name="_csrf" value="${slot.csrf}"><input name="key" value="${slot.key}"></form><form><input name="_csrf" value="${slot.csrf}"></form></body>`;

describe('MarkupTemplate', () => {
  it('fills every place a value goes (text, attribute, JSON in an attribute) exactly as rendering with it would', () => {
    const template = MarkupTemplate.render(['csrf', 'key'], (slot) => form(slot, 'Ratios: 1.08 → 1.09 ↑'));
    const values = { csrf: 'salt-Hash_value', key: 'k123' };
    expect(template.fill(values).toString()).toBe(form(values, 'Ratios: 1.08 → 1.09 ↑').value);
  });

  it('gives each request its own values from the one rendering', () => {
    const template = MarkupTemplate.render(['csrf', 'key'], (slot) => form(slot, 'x'));
    const first = template.fill({ csrf: 'aaa', key: 'k1' }).toString();
    const second = template.fill({ csrf: 'bbb', key: 'k2' }).toString();
    expect(first).toContain('value="aaa"');
    expect(first).not.toContain('bbb');
    expect(second).toContain('value="bbb"');
    expect(second).toContain('value="k2"');
    expect(second).not.toMatch(/aaa|k1/);
  });

  it('leaves markup from users alone, even text that looks like a placeholder', () => {
    const userText = 'slot_0_ <b> &';
    const template = MarkupTemplate.render(['csrf', 'key'], (slot) => form(slot, userText));
    expect(template.fill({ csrf: 'c', key: 'k' }).toString()).toContain('<p>slot_0_ &lt;b&gt; &amp;</p>');
  });

  it('refuses a value that would need escaping somewhere, rather than fill it raw', () => {
    const template = MarkupTemplate.render(['csrf', 'key'], (slot) => form(slot, 'x'));
    for (const bad of ['"><script>', "a'b", 'a b', 'a&b', 'é'])
      expect(() => template.fill({ csrf: bad, key: 'k' })).toThrow(/csrf is not a token/);
    expect(() => template.fill({ csrf: 'Aa0._~-', key: '' })).not.toThrow();
  });

  it('counts its size in encoded bytes, without the values', () => {
    const template = MarkupTemplate.render(['v'], (slot) => html`<p>→${slot.v}</p>`);
    expect(template.length).toBe(Buffer.byteLength('<p>→</p>'));
    expect(template.fill({ v: 'abc' })).toEqual(Buffer.from('<p>→abc</p>'));
  });

  it('renders markup without any placeholder as it is', () => {
    const template = MarkupTemplate.render(['csrf'], () => html`<p>No alerts</p>`);
    expect(template.fill({ csrf: 'unused' }).toString()).toBe('<p>No alerts</p>');
  });
});
