import type { CommandReply } from '../../events/index.ts';
import type { CommandRecord } from '../faults/support/traffic.ts';

/** Answers that mean the system, not the domain, failed the client: nothing decided, or not known to be. */
const INFRASTRUCTURE: ReadonlySet<string> = new Set(['UNAVAILABLE', 'UNCONFIRMED', 'CONFLICT']);
export const failedBySystem = (reply: CommandReply) => !reply.ok && INFRASTRUCTURE.has(reply.error);

/** What clients saw during one fault: every attempt sent from its start to its end. */
export type FaultAvailability = {
  attempts: number;
  failed: number;
  /** Attempts sent `graceMs` or more after the fault began, and how many of those failed. */
  late: number;
  lateFailed: number;
  /** From the fault's start to the answer of the last failed attempt (0 when none failed). */
  recoveryMs: number;
  /** The failures' error codes and how often each came. */
  errors: Record<string, number>;
};

/** Every attempt of every command sent within [from, to), with its reply (a retry is an attempt of its own). */
export function availability(
  records: readonly CommandRecord[],
  from: number,
  to: number,
  graceMs = 10_000,
): FaultAvailability {
  const result: FaultAvailability = { attempts: 0, failed: 0, late: 0, lateFailed: 0, recoveryMs: 0, errors: {} };
  for (const record of records)
    record.replies.forEach((reply, i) => {
      const at = record.sentAt[i]!;
      if (at < from || at >= to) return;
      const failed = failedBySystem(reply);
      const late = at >= from + graceMs;
      result.attempts++;
      if (late) result.late++;
      if (!failed || reply.ok) return;
      result.failed++;
      if (late) result.lateFailed++;
      result.errors[reply.error] = (result.errors[reply.error] ?? 0) + 1;
      result.recoveryMs = Math.max(result.recoveryMs, at + record.durationsMs[i]! - from);
    });
  return result;
}

/** The share of late attempts that succeeded or got a domain answer (1 when there were none). */
export const lateSuccessRate = (a: FaultAvailability) => (a.late === 0 ? 1 : (a.late - a.lateFailed) / a.late);

/** One row of the note's fault table (markdown). */
export function faultRow(fault: string, a: FaultAvailability, seconds: number, healedMs: number): string {
  const errors = Object.entries(a.errors)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  return [
    fault,
    `${a.attempts} commands in ${seconds.toFixed(0)} s (${(a.attempts / seconds).toFixed(1)}/s)`,
    a.failed === 0 ? 'none' : `${a.failed} (${errors}); ${a.lateFailed} of ${a.late} after the first 10 s`,
    `${(a.recoveryMs / 1000).toFixed(1)} s; replicas current ${(healedMs / 1000).toFixed(1)} s after the fault ended`,
    `${(lateSuccessRate(a) * 100).toFixed(2)} %`,
  ].join(' | ');
}
