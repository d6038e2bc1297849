import { describe, expect, it } from 'vitest';
import { sameTurn } from './sameTurn.ts';

describe('sameTurn', () => {
  it('gives every caller of one turn the same promise, resolved after the turn; a later turn gets its own', async () => {
    const order: string[] = [];
    const first = sameTurn();
    expect(sameTurn()).toBe(first);
    const both = Promise.all([first.then(() => order.push('a')), first.then(() => order.push('b'))]);
    void Promise.resolve().then(() => order.push('this turn'));
    await both;
    expect(order).toEqual(['this turn', 'a', 'b']);
    const next = sameTurn();
    expect(next).not.toBe(first);
    await next;
  });
});
