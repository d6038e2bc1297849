import type { DomainErrorCode, DomainEvent } from '../../events/index.ts';

/** A domain error as a value; `fields` names the command's fields it is about, for a form to show it beside them. */
export type Refusal = { ok: false; error: DomainErrorCode; message: string; fields?: string[] };

/** What a decide function returns: its aggregate's events to append, or a refusal. */
export type Decision<E extends DomainEvent = DomainEvent> =
  { ok: true; events: E[]; result?: Record<string, string> } | Refusal;

export const accept = <E extends DomainEvent>(events: E[], result?: Record<string, string>): Decision<E> => ({
  ok: true,
  events,
  ...(result ? { result } : {}),
});
export const refuse = (error: DomainErrorCode, message: string, fields?: string[]): Refusal => ({
  ok: false,
  error,
  message,
  ...(fields ? { fields } : {}),
});

/** What a decider may know besides the command and the state: passed in, so decide stays pure. */
export type DecisionContext = { now: Date };

/**
 * One aggregate's decider (emmett's shape): its state from `initialState` folded over its own events by `evolve`, and
 * `decide`, which answers a command on that state with events or a refusal. Every dependency comes in the command.
 */
export type Decider<State, Command, E extends DomainEvent> = {
  decide: (command: Command, state: State) => Decision<E>;
  evolve: (state: State, event: E) => State;
  initialState: State;
};
