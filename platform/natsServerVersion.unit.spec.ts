import { describe, expect, it } from 'vitest';
import { noticesFrozenPeers } from './embedded.ts';

describe('which nats-server a cluster may run on', () => {
  it('refuses the versions that keep routing to a frozen node (nats-server#4014, fixed in 2.9.16)', () => {
    expect(noticesFrozenPeers([2, 9, 10])).toBe(false);
    expect(noticesFrozenPeers([2, 9, 15])).toBe(false);
    expect(noticesFrozenPeers([2, 8, 99])).toBe(false);
    expect(noticesFrozenPeers([1, 99, 99])).toBe(false);
  });

  it('takes 2.9.16 and everything after', () => {
    expect(noticesFrozenPeers([2, 9, 16])).toBe(true);
    expect(noticesFrozenPeers([2, 10, 0])).toBe(true);
    expect(noticesFrozenPeers([2, 12, 15])).toBe(true);
    expect(noticesFrozenPeers([3, 0, 0])).toBe(true);
  });
});
