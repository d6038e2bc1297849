import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from './html.ts';

describe('html templates', () => {
  it('escapes every interpolated string', () => {
    const name = `<script>alert("x")</script>'&\``;
    expect(html`<p>${name}</p>`.value).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;&#96;</p>');
  });
  it('escapes inside attributes', () => {
    expect(html`<input value="${'" onfocus="evil()'}">`.value).toBe('<input value="&quot; onfocus=&quot;evil()">');
  });
  it('nests fragments without escaping them twice, and joins arrays', () => {
    const items = ['a<b', 'c&d'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>`.value).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
  });
  it('renders nothing for null, undefined and false', () => {
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x">Tom & Jerry's</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
  });
  it('escapes the escape character itself', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });
});
