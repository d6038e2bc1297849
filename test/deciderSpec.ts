import { expect } from 'vitest';
import type { DomainErrorCode, DomainEvent } from '../events/index.ts';
import type { Decider } from '../services/command/decision.ts';

/** An expected event: its type and as much of its payload as the case is about (matched as toMatchObject does). */
export type ExpectedEvent<E extends DomainEvent> = E extends DomainEvent
  ? { type: E['type']; data?: Partial<E['data']> }
  : never;

/**
 * The decider spec style (emmett's DeciderSpecification): `given(history).when(command).then(events)` or
 * `.thenRefuses(code)`. The state is the decider's own fold of the history, so a spec never builds one by hand.
 */
export function deciderSpec<State, Command, E extends DomainEvent>(decider: Decider<State, Command, E>) {
  return {
    given: (history: readonly E[]) => ({
      when: (command: Command) => {
        const decision = decider.decide(command, history.reduce(decider.evolve, decider.initialState));
        return {
          then: (expected: readonly ExpectedEvent<E>[]) =>
            expect(decision).toMatchObject({ ok: true, events: expected }),
          thenRefuses: (error: DomainErrorCode, fields?: string[]) =>
            expect(decision).toMatchObject({ ok: false, error, ...(fields ? { fields } : {}) }),
        };
      },
    }),
  };
}
