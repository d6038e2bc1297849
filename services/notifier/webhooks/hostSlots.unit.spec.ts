import { describe, expect, it } from 'vitest';
import { HostSlots } from './hostSlots.ts';

describe('slots per destination host', () => {
  it('gives a host at most perHost at once, queues as many more, and lets other hosts through', async () => {
    let clock = 0;
    const slots = new HostSlots(2, 50, { now: () => clock });
    const a1 = await slots.take('a');
    const a2 = await slots.take('a');
    expect(a1 && a2).toBeTruthy();
    expect(await slots.take('b')).toBeTruthy();
    // Two wait for host a; once it has not moved for 100 ms, a fifth finds the queue full at once; a waiter past
    // maxWaitMs gets none.
    const waiting = [slots.take('a'), slots.take('a')];
    clock += 100;
    expect(await slots.take('a')).toBeUndefined();
    a1!();
    expect(await waiting[0]).toBeTruthy();
    expect(await waiting[1]).toBeUndefined();
  });

  it('a released slot is released once', async () => {
    let clock = 0;
    const slots = new HostSlots(1, 10, { now: () => clock });
    const first = await slots.take('a');
    first!();
    first!();
    const second = await slots.take('a');
    expect(second).toBeTruthy();
    clock += 100;
    expect(await slots.take('a')).toBeUndefined();
  });

  it('a host that is moving (a slot changed hands within movingMs) has more wait for it while it moves', async () => {
    let clock = 0;
    const slots = new HostSlots(1, 1_000, { movingMs: 30, overflowWaitMs: 200, now: () => clock });
    const sending = await slots.take('a');
    const queued = slots.take('a');
    // The queue is full, but a slot was taken just now: two more wait, in order.
    const more = [slots.take('a'), slots.take('a')];
    sending!();
    const next = await queued;
    clock += 10;
    next!();
    const third = await more[0];
    expect(third).toBeTruthy();
    // The last waits on while the host moves; once it has not for movingMs, it leaves.
    await new Promise((r) => setTimeout(r, 50));
    clock += 30;
    expect(await more[1]).toBeUndefined();
    // Not moving now: one waits in the queue, the next is turned away at once.
    const waits = slots.take('a');
    expect(await slots.take('a')).toBeUndefined();
    third!();
    expect(await waits).toBeTruthy();
  });

  it('holds a waiter beyond the queue no longer than overflowWaitMs, however the host moves', async () => {
    let clock = 0;
    const slots = new HostSlots(1, 1_000, { movingMs: 30, overflowWaitMs: 200, now: () => clock });
    const sending = await slots.take('a');
    const queued = slots.take('a');
    const extra = slots.take('a');
    clock = 200;
    sending!();
    expect(await queued).toBeTruthy();
    expect(await extra).toBeUndefined();
  });
});
