import { describe, expect, it } from 'vitest';
import type { CommandReply } from '../../events/index.ts';
import type { CommandRecord } from '../faults/support/traffic.ts';
import { availability, lateSuccessRate } from './availability.ts';

const ok: CommandReply = { ok: true, seq: 1 } as CommandReply;
const refused = (error: string) => ({ ok: false, error, message: error }) as CommandReply;
const record = (attempts: [at: number, reply: CommandReply, tookMs: number][]): CommandRecord => ({
  name: 'LogIn',
  payload: {},
  commandId: 'c',
  replies: attempts.map((a) => a[1]),
  sentAt: attempts.map((a) => a[0]),
  durationsMs: attempts.map((a) => a[2]),
});

describe('availability during a fault', () => {
  it('counts system failures, not domain answers, and only attempts sent within the fault', () => {
    const a = availability(
      [
        record([[999, refused('UNAVAILABLE'), 5]]),
        record([[1_000, refused('UNCONFIRMED'), 3_000]]),
        record([[2_000, refused('INVALID_CREDENTIALS'), 10]]),
        record([[12_000, ok, 10]]),
        record([[30_000, refused('UNAVAILABLE'), 1]]),
      ],
      1_000,
      30_000,
    );
    expect(a).toEqual({
      attempts: 3,
      failed: 1,
      late: 1,
      lateFailed: 0,
      recoveryMs: 3_000,
      errors: { UNCONFIRMED: 1 },
    });
    expect(lateSuccessRate(a)).toBe(1);
  });

  it("takes a retry as an attempt of its own, at its own time, and recovery from the last failure's answer", () => {
    const a = availability(
      [
        record([
          [1_000, refused('UNAVAILABLE'), 100],
          [11_500, refused('CONFLICT'), 400],
          [13_000, ok, 20],
        ]),
        record([[14_000, ok, 20]]),
      ],
      1_000,
      20_000,
    );
    expect(a).toMatchObject({ attempts: 4, failed: 2, late: 3, lateFailed: 1, recoveryMs: 10_900 });
    expect(lateSuccessRate(a)).toBeCloseTo(2 / 3);
  });
});
