import type { DomainErrorCode, DomainEvent } from '../../events/index.ts';

/** What a decide function returns: the events to append, or a domain error as a value. */
export type Decision = { ok: true; events: DomainEvent[]; result?: Record<string, string> } | { ok: false; error: DomainErrorCode; message: string };

export const accept = (events: DomainEvent[], result?: Record<string, string>): Decision => ({ ok: true, events, ...(result ? { result } : {}) });
export type Refusal = Extract<Decision, { ok: false }>;
export const refuse = (error: DomainErrorCode, message: string): Refusal => ({ ok: false, error, message });

/** What a decider may know besides the command and the state: passed in, so decide stays pure. */
export type DecisionContext = { now: Date };
