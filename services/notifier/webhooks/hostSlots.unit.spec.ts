import { describe, expect, it } from 'vitest';
import { HostSlots } from './hostSlots.ts';

describe('slots per destination host', () => {
  it('gives a host at most perHost at once, queues as many more, and lets other hosts through', async () => {
    const slots = new HostSlots(2, 50);
    const a1 = await slots.take('a');
    const a2 = await slots.take('a');
    expect(a1 && a2).toBeTruthy();
    expect(await slots.take('b')).toBeTruthy();
    // Two wait for host a; a fifth finds the queue full at once; a waiter past maxWaitMs gets none.
    const waiting = [slots.take('a'), slots.take('a')];
    expect(await slots.take('a')).toBeUndefined();
    a1!();
    expect(await waiting[0]).toBeTruthy();
    expect(await waiting[1]).toBeUndefined();
  });

  it('a released slot is released once', async () => {
    const slots = new HostSlots(1, 10);
    const first = await slots.take('a');
    first!();
    first!();
    const second = await slots.take('a');
    expect(second).toBeTruthy();
    expect(await slots.take('a')).toBeUndefined();
  });
});
