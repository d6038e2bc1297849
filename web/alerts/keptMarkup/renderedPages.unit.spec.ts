import { describe, expect, it } from 'vitest';
import { RenderedPages } from './renderedPages.ts';

const markup = (text: string) => ({ text, length: text.length });
const v = (userSeq: number, runSeq: number) => ({ userSeq, runSeq });

describe('RenderedPages', () => {
  it('serves what was kept only at the exact version it was rendered at', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(1000);
    pages.set('page:u1', v(10, 5), markup('ten'));
    expect(pages.get('page:u1', v(10, 5))?.text).toBe('ten');
    // The user changed something, or a new run came: never the old markup.
    expect(pages.get('page:u1', v(11, 5))).toBeUndefined();
    expect(pages.get('page:u1', v(10, 6))).toBeUndefined();
    expect(pages.get('page:u1', v(9, 5))).toBeUndefined();
  });

  it('keeps each key apart: one user never gets what was rendered for another', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(1000);
    pages.set('page:u1', v(1, 1), markup('u1'));
    expect(pages.get('page:u2', v(1, 1))).toBeUndefined();
    pages.set('page:u2', v(1, 1), markup('u2'));
    expect(pages.get('page:u1', v(1, 1))?.text).toBe('u1');
    expect(pages.get('page:u2', v(1, 1))?.text).toBe('u2');
  });

  it('replaces what a key held with the newer rendering', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(1000);
    pages.set('k', v(1, 1), markup('old'));
    pages.set('k', v(2, 1), markup('newer'));
    expect(pages.get('k', v(1, 1))).toBeUndefined();
    expect(pages.get('k', v(2, 1))?.text).toBe('newer');
    expect(pages.size).toBe(5);
  });

  it('stays within its bound, dropping the least recently used first', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(10);
    pages.set('a', v(1, 1), markup('aaaa'));
    pages.set('b', v(1, 1), markup('bbbb'));
    pages.get('a', v(1, 1)); // a is now the most recently used
    pages.set('c', v(1, 1), markup('cccc'));
    expect(pages.size).toBeLessThanOrEqual(10);
    expect(pages.get('b', v(1, 1))).toBeUndefined();
    expect(pages.get('a', v(1, 1))?.text).toBe('aaaa');
    expect(pages.get('c', v(1, 1))?.text).toBe('cccc');
  });

  it('keeps nothing larger than the whole bound', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(10);
    pages.set('a', v(1, 1), markup('aaaa'));
    pages.set('big', v(1, 1), markup('x'.repeat(11)));
    expect(pages.get('big', v(1, 1))).toBeUndefined();
    expect(pages.get('a', v(1, 1))?.text).toBe('aaaa');
    expect(pages.size).toBe(4);
  });

  it('forgets a key on delete', () => {
    const pages = new RenderedPages<ReturnType<typeof markup>>(10);
    pages.set('a', v(1, 1), markup('aaaa'));
    pages.delete('a');
    expect(pages.get('a', v(1, 1))).toBeUndefined();
    expect(pages.size).toBe(0);
  });
});
